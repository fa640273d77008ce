// Guards that hold for every webContents and the app's session, whatever
// window creates them: the renderer is treated as untrusted, so a compromised
// page can neither navigate away, open windows, embed webviews, nor gain permissions.
import { app, shell, type Session, type WebContents } from 'electron';
import { isAllowedExternalUrl } from '../core/ipc-router';
import { isAppUrl } from './app-protocol';

/** Opens a link in the user's browser, but only links the IPC contract would allow too. */
export function openInBrowser(url: string): void {
  if (isAllowedExternalUrl(url)) void shell.openExternal(url);
}

function hardenContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // In-app navigation is client-side routing; a real navigation is either a link meant for the browser or an attack.
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url) && isAppUrl(contents.getURL())) return;
    event.preventDefault();
    openInBrowser(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame && !isAppUrl(event.url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    openInBrowser(url);
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
