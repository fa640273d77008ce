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
    /**
     * A notice the OS would not show (Focus Assist, notifications off for the app, a missing App User Model ID):
     * the caller puts it where the user still sees it (the tray, the window).
     */
    private readonly failed: (notice: ExpiryNotice, error: string) => void = () => undefined,
  ) {}

  show(notice: ExpiryNotice): void {
    if (!Notification.isSupported()) {
      this.failed(notice, 'notifications are not supported on this desktop');
      return;
    }
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
    // electron.d.ts, Notification event 'failed' (darwin, win32): "Emitted when an error is encountered while
    // creating and showing the native notification", with the error as a string.
    notification.on('failed', (_event, error) => {
      this.shown.delete(notification);
      this.failed(notice, error);
    });
    this.shown.add(notification);
    notification.show();
  }
}
