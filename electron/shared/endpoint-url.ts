// Where Tokentray may send a token, a refresh token or a client secret: https
// anywhere, plain http only to this machine. Shared by the core (which stores
// endpoint overrides) and the IPC contract (which checks what the renderer sends).

/** 127.0.0.0/8, ::1 and localhost, as `URL.hostname` spells them. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

export const LOOPBACK_HOSTS_TEXT = '127.0.0.0/8, ::1 or localhost';

/**
 * Why a URL may not carry secrets, as one sentence naming `what`; null when it may.
 * `appScheme` admits tokentray:// (a redirect URI handled by the desktop app).
 */
export function endpointUrlProblem(value: string, what: string, options: { appScheme?: boolean } = {}): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} is not a valid URL; give the full address, starting with https://.`;
  }
  if (url.username !== '' || url.password !== '')
    return `${what} must not contain a user name or password; give the address alone.`;
  if (url.protocol === 'https:') return null;
  if (options.appScheme && url.protocol === 'tokentray:') return null;
  if (url.protocol === 'http:') {
    return isLoopbackHostname(url.hostname)
      ? null
      : `${what} uses plain http to ${url.hostname}, which would send secrets unencrypted; use https (plain http is allowed only for ${LOOPBACK_HOSTS_TEXT}).`;
  }
  return `${what} must be an https URL (plain http only for ${LOOPBACK_HOSTS_TEXT}).`;
}

/**
 * The one rule for every address Tokentray hands to a browser or the OS opener (Electron's
 * shell.openExternal, xdg-open/open/start): https, or http on this machine, with no user name
 * or password. Nothing else: no file:, javascript:, data:, ms-msdt: or other custom schemes,
 * which an OS opener would hand to whatever program claims them (Electron security checklist,
 * item 14, "Do not use shell.openExternal with untrusted content").
 */
export function isOpenableUrl(value: string): boolean {
  return endpointUrlProblem(value, 'The address') === null;
}

export const OPENABLE_URLS_TEXT = `https addresses (plain http only for ${LOOPBACK_HOSTS_TEXT})`;
