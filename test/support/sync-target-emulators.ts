// The emulators as sync targets (sync-targets.ts): each starts an emulator with a small account,
// connects it in two cores of their own and turns a Mutation into a change through its mutation API.
import { createHttpClient, type HttpClient } from '../../electron/core/http/client';
import { clickup } from '../../electron/core/providers/clickup';
import { startClickupEmulator } from '../fakes/clickup-emulator';
import type { TaskMutator } from '../fakes/emulator-kit';
import { configureClickup } from './clickup-core';
import { amocrmTarget } from './sync-target-amocrm';
import { basecampTarget } from './sync-target-basecamp';
import { freePort } from './free-port';
import type { Mutation, SyncTarget } from './sync-targets';
import { makeTestCore } from './test-core';

/** The cores' clock: tests move it forward to make the daily full walk due. */
export interface Clock {
  offsetMs: number;
  now(): number;
}

export interface SyncTargetFactory {
  name: string;
  start(clock: Clock, options?: { tasks?: number }): Promise<SyncTarget>;
}

/** One Mutation applied through an emulator's TaskMutator; the id it touched, or null when there was none to pick. */
export function applyMutation(mutate: TaskMutator, m: Mutation, serial: number): string | null {
  if (m.kind === 'create') {
    const containers = mutate.containers();
    return mutate.create(containers[serial % containers.length]!, {
      title: `new task ${serial}`,
      due: serial % 2 === 0 ? null : `2026-12-${String(10 + (serial % 18)).padStart(2, '0')}`,
    });
  }
  const ids = mutate.taskIds();
  if (ids.length === 0) return null;
  const id = ids[m.pick % ids.length]!;
  switch (m.kind) {
    case 'update':
      mutate.update(id, { title: `edited ${serial}`, ...(serial % 3 === 0 ? { due: '2026-12-24' } : {}) });
      break;
    case 'complete':
      mutate.complete(id);
      break;
    case 'reopen':
      mutate.reopen(id);
      break;
    case 'delete':
      mutate.delete(id);
      break;
    case 'move': {
      const to = mutate.destinations(id);
      if (to.length === 0) return null;
      mutate.move(id, to[(m.pick + serial) % to.length]!);
      break;
    }
  }
  return id;
}

/**
 * An HTTP client whose pacing sleeps pass in virtual time: its clock moves on by what it slept, so
 * a provider's pacing holds without the test waiting it out.
 */
export function virtualTimeHttp(clock: Clock): HttpClient {
  let slept = 0;
  return createHttpClient({
    clock: { now: () => clock.now() + slept },
    sleep: async (ms) => {
      slept += ms;
    },
  });
}

/** An emulator reached by two cores as a SyncTarget; closing it cleans both cores, then the emulator. */
export function emulatorTarget(
  name: string,
  emu: { mutate: TaskMutator; stats: { apiRequests: number }; close(): Promise<void> },
  synced: SyncTarget['synced'],
  reference: SyncTarget['reference'],
): SyncTarget {
  let serial = 0;
  return {
    name,
    synced,
    reference,
    ids: () => emu.mutate.taskIds(),
    apply: (m) => applyMutation(emu.mutate, m, (serial += 1)),
    requests: () => emu.stats.apiRequests,
    close: async () => {
      await synced.t.cleanup();
      await reference.t.cleanup();
      await emu.close();
    },
  };
}

export const clickupTarget: SyncTargetFactory = {
  name: 'ClickUp',
  async start(clock, options = {}) {
    const emu = await startClickupEmulator({
      redirectUri: `http://127.0.0.1:${await freePort()}/callback/clickup`,
      taskCount: options.tasks ?? 25,
      // A sized account (the bench) is one workspace, so `tasks` is the account's count.
      ...(options.tasks === undefined ? {} : { teams: [{ id: '9001', name: 'Bench workspace' }] }),
      requestsPerMinute: 1_000_000,
    });
    const token = emu.issuePersonalToken('alice');
    const core = async () => {
      const t = makeTestCore({ providers: [clickup], clock });
      await configureClickup(t.core, emu);
      const account = await t.core.connectWithToken('clickup', token, { label: 'cu' });
      return { t, accountId: account.id };
    };
    return emulatorTarget('ClickUp', emu, await core(), await core());
  },
};

export const targets: SyncTargetFactory[] = [clickupTarget, amocrmTarget, basecampTarget];
