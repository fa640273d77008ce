import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { createTokentrayCore } from '../../electron/core/create-core';
import { ensureDemoServer } from '../../electron/core/demo/demo-server';
import { createHttpClient } from '../../electron/core/http/client';
import type { TokentrayCore } from '../../electron/core/service';
import { revokeAtDemo } from '../support/demo-browser';

/**
 * Test control over the demo provider the bridge's core talks to, from outside the product:
 * a revocation goes through the demo's RFC 7009 endpoint, and an outage is staged in the
 * core's HTTP client (its undici dispatcher), not in the demo server.
 */

/** What a provider-side revocation looks like to the app: every demo account's tokens are revoked at the demo. */
export async function revokeDemoTokens(core: TokentrayCore): Promise<void> {
  const demo = await ensureDemoServer();
  for (const meta of await core.repo.listMeta()) {
    if ('corrupt' in meta || core.registry.builtin(meta.provider)?.kind !== 'demo') continue;
    const { secret } = await core.repo.load(meta.id);
    await revokeAtDemo(demo.url, [secret.tokens.accessToken, secret.tokens.refreshToken]);
  }
}

export interface DemoOutage {
  /** The dispatcher to build the core's HTTP client with. */
  dispatcher: Dispatcher;
  /** While down, the demo's API answers 503, the way a provider outage looks (the offline cache shows). */
  set(down: boolean): void;
  close(): Promise<void>;
}

/** Requests for the demo's /api/ go to a server that answers 503 while the outage is on; all else passes. */
export async function demoOutage(): Promise<DemoOutage> {
  const demoOrigin = new URL((await ensureDemoServer()).url).origin;
  const down: Server = createServer((_req, res) => {
    const body = JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The demo API is down.' });
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  const downOrigin = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
  let outage = false;
  const agent = new Agent();
  const dispatcher = agent.compose(
    (dispatch) => (opts, handler) =>
      dispatch(
        outage && new URL(String(opts.origin)).origin === demoOrigin && opts.path.startsWith('/api/')
          ? { ...opts, origin: downOrigin }
          : opts,
        handler,
      ),
  );
  return {
    dispatcher,
    set: (value) => {
      outage = value;
    },
    close: async () => {
      await agent.close();
      await new Promise<void>((resolve) => down.close(() => resolve()));
    },
  };
}

export interface ControlledCore {
  /** The real core, as the bridge would create it, with its HTTP client on the outage switch. */
  core: TokentrayCore;
  /** While down, the demo's API answers 503. */
  setDemoApiOutage(down: boolean): void;
  /** The provider revokes every demo account's tokens. */
  revokeDemoTokens(): Promise<void>;
  close(): Promise<void>;
}

/** The core the e2e tests hand the bridge: the product's, with the demo under the test's control. */
export async function controlledCore(home: string, keychainService: string): Promise<ControlledCore> {
  const outage = await demoOutage();
  const core = await createTokentrayCore({
    home,
    keychainService,
    http: createHttpClient({ dispatcher: outage.dispatcher, rateDir: join(home, 'rate') }),
  });
  return {
    core,
    setDemoApiOutage: (down) => outage.set(down),
    revokeDemoTokens: () => revokeDemoTokens(core),
    close: async () => {
      await core.close();
      await outage.close();
    },
  };
}
