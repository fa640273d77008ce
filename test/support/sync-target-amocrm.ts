// amoCRM as a sync target (sync-targets.ts): a small account reached with a long-lived token in two
// cores of their own; changes go through the emulator's mutation API.
import { createHttpClient } from '../../electron/core/http/client';
import { amocrm } from '../../electron/core/providers/amocrm';
import { startAmocrmEmulator } from '../fakes/amocrm-emulator';
import { freePort } from './free-port';
import type { SyncTarget } from './sync-targets';
import { applyMutation, type Clock, type SyncTargetFactory } from './sync-target-emulators';
import { makeTestCore } from './test-core';

export const amocrmTarget: SyncTargetFactory = {
  name: 'amoCRM',
  async start(clock: Clock, options = {}): Promise<SyncTarget> {
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
    const emu = await startAmocrmEmulator({
      redirectUri,
      taskCount: options.tasks ?? 25,
      requestsPerSecond: 1_000_000,
    });
    const token = emu.issueLongLivedToken({ user: 'alice', ttlSeconds: 365 * 86_400 });
    const core = async (): Promise<SyncTarget['synced']> => {
      // amoCRM is paced at 7 a second; the client's sleeps pass in virtual time (see sync-target-basecamp.ts).
      let slept = 0;
      const http = createHttpClient({
        clock: { now: () => clock.now() + slept },
        sleep: async (ms) => {
          slept += ms;
        },
      });
      const t = makeTestCore({ providers: [amocrm], clock, http });
      await t.core.setProvider('amocrm', {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        redirectUri,
        authorizeUrl: `${emu.url}/oauth`,
        apiUrl: emu.url,
      });
      const account = await t.core.connectWithToken('amocrm', token, { label: 'amo' });
      return { t, accountId: account.id };
    };
    const synced = await core();
    const reference = await core();
    let serial = 0;
    return {
      name: 'amoCRM',
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
  },
};
