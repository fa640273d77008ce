import { BrowserWindow, type WebContents } from 'electron';
import { APP_ENTRY_URL, isAppUrl } from './app-protocol';

export interface MainWindowOptions {
  preloadPath: string;
  iconPath?: string;
}

/**
 * One window, created on demand and reused. The page gets no Node, runs in
 * Chromium's sandbox in its own JavaScript world, and talks to main only
 * through the preload's named verbs.
 */
export class MainWindow {
  private window: BrowserWindow | null = null;
  private readonly readyListeners = new Set<(contents: WebContents) => void>();

  constructor(private readonly options: MainWindowOptions) {}

  get current(): BrowserWindow | null {
    return this.window && !this.window.isDestroyed() ? this.window : null;
  }

  /** Runs for every page load of the window (a new window or a reload), e.g. to re-subscribe pushes. */
  onContents(listener: (contents: WebContents) => void): void {
    this.readyListeners.add(listener);
  }

  /** `view` opens a new window on that view (e.g. 'connect'); an open window is sent a `navigate` event instead. */
  open(show = true, view?: string): BrowserWindow {
    const existing = this.current;
    if (existing) {
      if (show) {
        if (existing.isMinimized()) existing.restore();
        existing.show();
        existing.focus();
      }
      return existing;
    }
    const window = new BrowserWindow({
      width: 1100,
      height: 720,
      minWidth: 720,
      minHeight: 480,
      show: false,
      title: 'Tokentray',
      autoHideMenuBar: true,
      ...(this.options.iconPath ? { icon: this.options.iconPath } : {}),
      webPreferences: {
        preload: this.options.preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        // Middle-click opens links in new windows; the app never wants that (the window-open handler denies it anyway).
        disableBlinkFeatures: 'Auxclick',
        devTools: process.env['TOKENTRAY_DEVTOOLS'] === '1',
      },
    });
    this.window = window;
    window.once('ready-to-show', () => {
      if (show) window.show();
    });
    window.webContents.on('did-finish-load', () => {
      for (const listener of this.readyListeners) listener(window.webContents);
    });
    window.on('closed', () => {
      if (this.window === window) this.window = null;
    });
    void window.loadURL(view ? `${APP_ENTRY_URL}#${view}` : APP_ENTRY_URL);
    return window;
  }

  /** The sender check: the main frame of this window's page, at the app's own origin, nothing else. */
  isTrustedFrame(contents: WebContents, frame: { processId: number; routingId: number; url: string } | null): boolean {
    const window = this.current;
    if (!window || frame === null || contents !== window.webContents) return false;
    const main = window.webContents.mainFrame;
    return frame.processId === main.processId && frame.routingId === main.routingId && isAppUrl(frame.url);
  }

  send(channel: string, payload: unknown): void {
    const window = this.current;
    if (window && !window.webContents.isDestroyed() && isAppUrl(window.webContents.getURL())) {
      window.webContents.send(channel, payload);
    }
  }
}
