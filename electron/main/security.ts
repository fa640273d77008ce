// Guards that hold for every webContents and the app's session, whatever
// window creates them: the renderer is treated as untrusted, so a compromised
// page can neither navigate away, open windows, embed webviews, nor gain permissions.
import { app, shell, type Session, type WebContents } from 'electron';
import { isOpenableUrl } from '../shared/endpoint-url';
import { isAppUrl } from './app-protocol';

/**
 * Opens a link in the user's browser, but only by the one rule for opened URLs (https, or http
 * on loopback). Every path in main goes through here: the window's openExternal, the tray's
 * Reconnect, links and window.open from the page. Resolves whether it was opened.
 */
export async function openInBrowser(url: string): Promise<boolean> {
  if (!isOpenableUrl(url)) return false;
  await shell.openExternal(url);
  return true;
}

function hardenContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // In-app navigation is client-side routing; a real navigation is either a link meant for the browser or an attack.
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url) && isAppUrl(contents.getURL())) return;
    event.preventDefault();
    void openInBrowser(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame && !isAppUrl(event.url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    void openInBrowser(url);
    return { action: 'deny' };
  });
}

/** Every webContents, including ones created later by Chromium itself (devtools excepted by Electron). */
export function guardAllWebContents(): void {
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
}

/**
 * No camera, microphone, notifications, geolocation, USB, HID or serial for the page.
 * The one exception is writing (not reading) the clipboard from our own page: the
 * UI copies redirect URIs with navigator.clipboard; tokens are copied by main.
 */
export function denyPermissions(session: Session): void {
  const allowed = (permission: string, origin: string | undefined): boolean =>
    permission === 'clipboard-sanitized-write' && origin !== undefined && isAppUrl(origin);
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(allowed(permission, details.requestingUrl ?? contents?.getURL()));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => allowed(permission, requestingOrigin));
  session.setDevicePermissionHandler(() => false);
  session.setBluetoothPairingHandler?.((_details, callback) => callback({ confirmed: false }));
  // Nothing in the app downloads files; a page that tries is not ours.
  session.on('will-download', (event) => event.preventDefault());
}
