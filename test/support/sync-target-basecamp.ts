// Basecamp as a sync target (sync-targets.ts): a small account of two Basecamp accounts, connected
// through the loopback sign-in in two cores of their own; changes go through the emulator's mutation API.
import { basecamp } from '../../electron/core/providers/basecamp';
import { startBasecampEmulator, type BasecampEmulatorHandle } from '../fakes/basecamp-emulator';
import { freePort } from './free-port';
import type { SyncTarget } from './sync-targets';
import { emulatorTarget, virtualTimeHttp, type Clock, type SyncTargetFactory } from './sync-target-emulators';
import { makeTestCore, type TestCore } from './test-core';

// The cores' sleeps are stubbed, so Basecamp's real 50 per 10 s would trip on them.
const ROOMY = { limit: 1_000_000, windowMs: 10_000 };

async function connectedCore(
  emu: BasecampEmulatorHandle,
  redirectUri: string,
  clock: Clock,
): Promise<{ t: TestCore; accountId: string }> {
  // Basecamp is paced at 5 requests a second; the client's sleeps pass in virtual time.
  const http = virtualTimeHttp(clock);
  const t = makeTestCore({ providers: [basecamp], clock, http });
  await t.core.setProvider('basecamp', {
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    redirectUri,
    authorizeUrl: `${emu.url}/authorization/new`,
    tokenUrl: `${emu.url}/authorization/token`,
    apiUrl: emu.url,
  });
  const attempt = await t.core.startConnect('basecamp');
  const landed = await emu.consent(attempt.authorizeUrl, { user: 'jason' });
  const res = await fetch(landed);
  await res.arrayBuffer();
  const account = await attempt.result;
  return { t, accountId: account.id };
}

export async function startBasecampTarget(
  clock: Clock,
  options: {
    projectsPerAccount?: number;
    listsPerProject?: number;
    todosPerList?: number;
    completedPerList?: number;
    pageSize?: number;
  } = {},
): Promise<SyncTarget & { emu: BasecampEmulatorHandle }> {
  const emu = await startBasecampEmulator({
    rateLimit: ROOMY,
    projectsPerAccount: options.projectsPerAccount ?? 2,
    listsPerProject: options.listsPerProject ?? 2,
    openTodosPerList: options.todosPerList ?? 4,
    completedTodosPerList: options.completedPerList ?? 2,
    pageSize: options.pageSize ?? 3,
    redirectUri: `http://127.0.0.1:${await freePort()}/callback`,
  });
  // One redirect URI is registered; the two cores sign in one after the other on it.
  const synced = await connectedCore(emu, emu.redirectUri, clock);
  const reference = await connectedCore(emu, emu.redirectUri, clock);
  return { ...emulatorTarget('Basecamp', emu, synced, reference), emu };
}

export const basecampTarget: SyncTargetFactory = {
  name: 'Basecamp',
  // `tasks`: jason's 2 Basecamp accounts × 5 projects × 10 lists, a fifth of each list completed,
  // read 15 to a page as Basecamp pages them.
  start: (clock, options = {}) =>
    options.tasks === undefined
      ? startBasecampTarget(clock)
      : startBasecampTarget(clock, {
          projectsPerAccount: 5,
          listsPerProject: 10,
          todosPerList: Math.round((options.tasks / 100) * 0.8),
          completedPerList: Math.round((options.tasks / 100) * 0.2),
          pageSize: 15,
        }),
};
