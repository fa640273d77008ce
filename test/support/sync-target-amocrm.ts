// amoCRM as a sync target (sync-targets.ts): a small account reached with a long-lived token in two
// cores of their own; changes go through the emulator's mutation API.
import { amocrm } from '../../electron/core/providers/amocrm';
import { startAmocrmEmulator } from '../fakes/amocrm-emulator';
import { freePort } from './free-port';
import type { SyncTarget } from './sync-targets';
import { emulatorTarget, virtualTimeHttp, type Clock, type SyncTargetFactory } from './sync-target-emulators';
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
      // amoCRM is paced at 7 a second; the client's sleeps pass in virtual time.
      const http = virtualTimeHttp(clock);
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
    return emulatorTarget('amoCRM', emu, await core(), await core());
  },
};
