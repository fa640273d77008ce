import { Notification } from 'electron';
import type { ExpiryNotice } from '../core/refresh/expiry-notices';

/**
 * Shows an expiry notice with a Reconnect button (macOS shows buttons; on
 * Windows and Linux clicking the notification itself reconnects).
 */
export class ExpiryNotifier {
  // Electron drops the click handlers of a notification that was garbage collected while still on screen.
  private readonly shown = new Set<Notification>();

  constructor(
    private readonly reconnect: (notice: ExpiryNotice) => void,
    private readonly iconPath?: string,
  ) {}

  show(notice: ExpiryNotice): void {
    if (!Notification.isSupported()) return;
    const notification = new Notification({
      title: notice.title,
      body: notice.body,
      ...(this.iconPath ? { icon: this.iconPath } : {}),
      actions: [{ type: 'button', text: 'Reconnect' }],
      timeoutType: 'never',
    });
    const act = (): void => {
      this.shown.delete(notification);
      this.reconnect(notice);
    };
    notification.on('action', act);
    notification.on('click', act);
    notification.on('close', () => this.shown.delete(notification));
    this.shown.add(notification);
    notification.show();
  }
}
