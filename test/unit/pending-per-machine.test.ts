import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickup } from '../../electron/core/providers/clickup';
import { startClickupEmulator, type ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { configureClickup } from '../support/clickup-core';
import { freePort } from '../support/free-port';
import { makeTestCore, type TestCore } from '../support/test-core';

/**
 * Issue 20, Low: on a shared store two machines start sign-ins for the same provider. Each must
 * stay completable from its own machine (`connect --redirected-url` in another process there),
 * instead of the later one overwriting the other's pending item.
 */
let emu: ClickupEmulatorHandle;
const homes: string[] = [];
const cores: TestCore[] = [];

beforeAll(async () => {
  emu = await startClickupEmulator({ redirectUri: `http://127.0.0.1:${await freePort()}/callback/clickup` });
});
afterAll(async () => {
  for (const t of cores.reverse()) await t.cleanup();
  await emu.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

async function machine(home: string, shared?: TestCore): Promise<TestCore> {
  const t = makeTestCore({ providers: [clickup], home, ...(shared ? { store: shared.store } : {}) });
  cores.push(t);
  await configureClickup(t.core, emu);
  return t;
}

describe('pending sign-ins on a shared store', () => {
  it('are kept per machine: a second machine starting one does not void the first', async () => {
    const [homeA, homeB] = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'tokentray-pending-')));
    homes.push(homeA!, homeB!);
    const a = await machine(homeA!);
    const b = await machine(homeB!, a);

    const onA = await a.core.startConnect('clickup', { listen: false, label: 'from-a' });
    const onB = await b.core.startConnect('clickup', { listen: false, label: 'from-b' });
    const landedA = await emu.consent(onA.authorizeUrl, { user: 'alice' });
    const landedB = await emu.consent(onB.authorizeUrl, { user: 'bob' });
    onA.cancel();
    onB.cancel();

    // Another process on each machine (same state directory, same shared store) finishes the sign-in.
    const laterA = await machine(homeA!, a);
    const laterB = await machine(homeB!, a);
    expect((await laterA.core.completeConnectWithUrl('clickup', landedA)).label).toBe('from-a');
    expect((await laterB.core.completeConnectWithUrl('clickup', landedB)).label).toBe('from-b');
  });
});
