import type { TokentrayApi } from '../../electron/shared/ipc-contract';
import { connectBridge } from './bridge-client';

declare global {
  interface Window {
    tokentray?: TokentrayApi;
  }
}

const TOKEN_KEY = 'tokentray-bridge-token';

/**
 * In Electron the preload has put the API on window.tokentray. Otherwise this is
 * the development bridge: its URL carries a one-time token, which is moved out of
 * the address bar (and into this tab's session storage, so a reload still works).
 */
export function getApi(): TokentrayApi | null {
  if (window.tokentray) return window.tokentray;
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    window.history.replaceState(
      null,
      '',
      `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`,
    );
  }
  const token = fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
  if (!token || window.location.protocol !== 'http:') return null;
  return connectBridge(`ws://${window.location.host}/ipc?token=${encodeURIComponent(token)}`);
}
