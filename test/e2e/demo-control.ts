import { ensureDemoServer } from '../../electron/core/demo/demo-server';

/**
 * What a provider-side revocation looks like to the app: the in-process demo
 * server (the same singleton the bridge's core talks to) stops accepting every
 * token and refresh token it issued so far.
 */
export async function revokeDemoTokens(): Promise<void> {
  (await ensureDemoServer()).revokeAll();
}

/** What a provider outage looks like to the app: the demo's API answers 503 until it is back. */
export async function setDemoApiOutage(down: boolean): Promise<void> {
  (await ensureDemoServer()).setApiOutage(down);
}
