import { expect } from 'vitest';
import { clickup } from '../../electron/core/providers/clickup';
import { startClickupEmulator, type ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { freePort } from './free-port';
import { makeTestCore, type TestCore } from './test-core';

/** Points Tokentray's ClickUp provider at an emulator (endpoint overrides are a CLI/core matter). */
export async function configureClickup(core: TestCore['core'], emu: ClickupEmulatorHandle): Promise<void> {
  await core.setProvider('clickup', {
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    redirectUri: emu.redirectUri,
    authorizeUrl: `${emu.url}/api`,
    tokenUrl: `${emu.url}/api/v2/oauth/token`,
    apiUrl: `${emu.url}/api/v2`,
  });
}

/** A ClickUp emulator and a keychain-backed core with the provider set up for it. */
export async function startClickupCore(): Promise<{ emu: ClickupEmulatorHandle; t: TestCore }> {
  const emu = await startClickupEmulator({ redirectUri: `http://127.0.0.1:${await freePort()}/callback/clickup` });
  const t = makeTestCore({ keychain: true, providers: [clickup] });
  await configureClickup(t.core, emu);
  return { emu, t };
}

/**
 * Two accounts whose tokens need different Authorization schemes: `work-pk`, alice's personal
 * token (sent raw), and `work-oauth`, bob's OAuth token (Bearer), connected through consent.
 */
export async function connectPersonalAndOauth(
  emu: ClickupEmulatorHandle,
  t: TestCore,
): Promise<{ personal: string; oauthToken: string }> {
  const personal = emu.issuePersonalToken('alice');
  await t.core.connectWithToken('clickup', personal, { label: 'work-pk' });
  const attempt = await t.core.startConnect('clickup', { label: 'work-oauth' });
  expect((await fetch(await emu.consent(attempt.authorizeUrl, { user: 'bob' }))).status).toBe(200);
  await attempt.result;
  return { personal, oauthToken: await t.core.getAccessToken('work-oauth') };
}
