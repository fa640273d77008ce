// The tray as a service with its dependencies handed in (Signal Desktop's
// SystemTrayService shape): it never reaches for the core or the window itself.
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { join } from 'node:path';
import type { AccountSummary } from '../shared/models';
import { accountLine, trayStateOf, TRAY_TOOLTIPS, type TrayState } from './tray-model';

export interface TrayDeps {
  iconsDir: string;
  now(): number;
  listAccounts(): Promise<AccountSummary[]>;
  isOnline(): boolean;
  retryingCount(): number;
  openWindow(): void;
  connectAccount(): void;
  copyToken(accountId: string): void;
  reconnect(account: AccountSummary): void;
  quit(): void;
}

export class TrayService {
  private tray: Tray | null = null;
  private state: TrayState = 'ok';
  private readonly icons = new Map<TrayState, NativeImage>();
  private lastMenu: string[] = [];
  /** A warning the OS would not show as a notification ('failed'), kept at the top of the menu until acted on. */
  private notice: { text: string; act: () => void } | null = null;

  constructor(private readonly deps: TrayDeps) {}

  get current(): { state: TrayState; menu: string[] } | null {
    return this.tray ? { state: this.state, menu: [...this.lastMenu] } : null;
  }

  /** For the smoke test: an icon file that failed to load gives an empty image and an invisible tray. */
  iconIsEmpty(): boolean | null {
    return this.tray ? this.icon(this.state).isEmpty() : null;
  }

  private icon(state: TrayState): NativeImage {
    let image = this.icons.get(state);
    if (!image) {
      // tray-<state>.png is 16 px with a tray-<state>@2x.png beside it: Electron picks the one for the screen.
      image = nativeImage.createFromPath(join(this.deps.iconsDir, `tray-${state}.png`));
      this.icons.set(state, image);
    }
    return image;
  }

  create(): void {
    if (this.tray) return;
    this.tray = new Tray(this.icon('ok'));
    this.tray.setToolTip(TRAY_TOOLTIPS.ok);
    // Windows and macOS users expect a left click to open the app; Linux trays only show the menu.
    if (process.platform === 'win32' || process.platform === 'darwin') {
      this.tray.on('click', () => this.deps.openWindow());
    }
    void this.update();
  }

  async update(): Promise<void> {
    const tray = this.tray;
    if (!tray || tray.isDestroyed()) return;
    let accounts: AccountSummary[] = [];
    try {
      accounts = await this.deps.listAccounts();
    } catch {
      // An unreadable state directory still deserves a working Quit item.
    }
    if (tray.isDestroyed()) return;
    this.state = trayStateOf(accounts, { online: this.deps.isOnline(), retrying: this.deps.retryingCount() });
    tray.setImage(this.icon(this.state));
    tray.setToolTip(this.notice ? `Tokentray: ${this.notice.text}` : TRAY_TOOLTIPS[this.state]);
    const template = this.menu(accounts);
    this.lastMenu = template.filter((item) => item.label !== undefined).map((item) => item.label as string);
    tray.setContextMenu(Menu.buildFromTemplate(template));
  }

  /** Shows a notice in the tray (menu item and tooltip) when a system notification could not be shown. */
  showNotice(text: string, act: () => void): void {
    this.notice = {
      text,
      act: () => {
        this.notice = null;
        act();
        void this.update();
      },
    };
    void this.update();
  }

  /** Takes down a notice once what it reported is over (only that notice, never another). */
  clearNotice(text: string): void {
    if (this.notice?.text !== text) return;
    this.notice = null;
    void this.update();
  }

  private menu(accounts: AccountSummary[]): MenuItemConstructorOptions[] {
    const now = this.deps.now();
    const items: MenuItemConstructorOptions[] = [];
    if (this.notice) items.push({ label: `⚠ ${this.notice.text}`, click: this.notice.act }, { type: 'separator' });
    if (accounts.length === 0) items.push({ label: 'No accounts connected', enabled: false });
    for (const account of accounts) {
      const needsReconnect = account.status === 'reconnect' || (account.status === 'expired' && !account.canRefresh);
      items.push({
        label: accountLine(account, now),
        submenu: [
          needsReconnect
            ? { label: 'Reconnect…', click: () => this.deps.reconnect(account) }
            : { label: 'Copy token', click: () => this.deps.copyToken(account.id) },
          { label: 'Open Tokentray', click: () => this.deps.openWindow() },
        ],
      });
    }
    items.push(
      { type: 'separator' },
      { label: 'Connect account…', click: () => this.deps.connectAccount() },
      { label: 'Open Tokentray', click: () => this.deps.openWindow() },
      { type: 'separator' },
      { label: 'Quit', click: () => this.deps.quit() },
    );
    return items;
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = null;
  }
}
