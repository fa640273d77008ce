// Start at login for the Electron app. macOS and Windows: the OS login item
// (electron.d.ts, app.setLoginItemSettings, platform darwin,win32). Linux: the
// XDG autostart entry written by the core. A development run never registers
// itself (it would start node_modules/electron at every login).
import { app } from 'electron';
import { installedAppBackend, xdgAutostartBackend, type LoginItemBackend } from '../core/login-item/start-at-login';
import { HIDDEN_FLAG } from '../core/login-item/xdg-autostart';

export function loginItemBackend(): LoginItemBackend {
  if (!app.isPackaged) return installedAppBackend(process.platform);
  if (process.platform === 'linux') {
    // An AppImage runs from a temporary mount; $APPIMAGE is the file the user keeps (AppImage runtime docs).
    const executable = process.env['APPIMAGE'] || process.execPath;
    return xdgAutostartBackend(executable, 'the app could not find its own executable.');
  }
  // Windows passes `args` to the Run key entry, so the login start is --hidden (tray only). macOS 13+
  // has no openAsHidden (Electron 45's Settings type dropped it); there main checks wasOpenedAtLogin instead.
  const windowsArgs = process.platform === 'win32' ? { args: [HIDDEN_FLAG] } : {};
  return {
    unsupportedReason: null,
    isEnabled: async () => app.getLoginItemSettings(windowsArgs).openAtLogin,
    setEnabled: async (enabled) => app.setLoginItemSettings({ openAtLogin: enabled, ...windowsArgs }),
  };
}

/** Started at login (or asked for the tray only): no window, just the tray. */
export function startsHidden(argv: readonly string[]): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  // macOS login items get no arguments; LoginItemSettings.wasOpenedAtLogin (darwin) says how we were started.
  return process.platform === 'darwin' && app.isPackaged && app.getLoginItemSettings().wasOpenedAtLogin === true;
}
