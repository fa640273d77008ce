import { Agent, request } from 'undici';
import fc from 'fast-check';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { startLoopbackListener } from '../../electron/core/connect/loopback';
import { TokentrayError } from '../../electron/core/errors';
import { parseCallback, validateCallback } from '../../electron/core/oauth/callback';
import { amocrm } from '../../electron/core/providers/amocrm';
import { makeTestCore } from '../support/test-core';

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2_147_483_647);
const HTTP_RUNS = Number(process.env['FUZZ_HTTP_RUNS'] ?? 50_000);
const PARSER_RUNS = Number(process.env['FUZZ_PARSER_RUNS'] ?? 100_000);
const STATE = oauth.generateRandomState();

/** Values an attacker or a confused browser might send: near misses of the real state, junk, huge, badly encoded. */
const value = fc.oneof(
  fc.constant(STATE.slice(0, -1)),
  fc.constant(`${STATE}x`),
  fc.constant(STATE.toUpperCase()),
  fc.constant(encodeURIComponent(` ${STATE}`)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('%', '%E0%A4%A', '%00', '%ZZ', '..%2F..%2F', '%0D%0ASet-Cookie:x=1', '&&&', '==', ''),
  fc.nat({ max: 20_000 }).map((n) => 'a'.repeat(n)),
);
const param = fc.tuple(
  fc.constantFrom('code', 'state', 'error', 'error_description', 'referer', 'iss', 'state[]', 'STATE', 'x'),
  value,
);
const errorParam = fc.constantFrom(
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_scope',
  'login_required',
);
const query = fc.oneof(
  fc.array(param, { maxLength: 8 }).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.tuple(value, errorParam).map(([s, e]) => `error=${e}&state=${s}`),
  fc.tuple(value, value).map(([c, s]) => `code=${c}&state=${s}&state=${s}`),
  fc.tuple(value).map(([c]) => `code=${c}&state=${STATE}&state=${STATE}x`),
);
const path = fc.constantFrom(
  '/callback/fuzz',
  '/callback/fuzz/',
  '/callback/fuzz/../fuzz',
  '/%2e%2e/callback/fuzz',
  '//callback/fuzz',
  '/',
  '/callback',
  '/CALLBACK/fuzz',
  '/callback/fuzz%00',
);

describe('fuzzing callbacks and deep links', () => {
  it(`the deep-link / pasted-URL parser answers ${PARSER_RUNS} hostile inputs with coded errors only (seed ${SEED})`, () => {
    console.log(`callback parser fuzz: seed=${SEED} runs=${PARSER_RUNS} (replay with FUZZ_SEED=${SEED})`);
    const input = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(
            'tokentray://callback/demo',
            'http://127.0.0.1:8976/callback',
            'https://x.test/cb',
            'tokentray:',
            'javascript:',
          ),
          fc.constantFrom('?', '#', '?#', ''),
          query,
        )
        .map(([b, sep, q]) => `${b}${sep}${q}`),
      query,
      fc.string({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(input, (text) => {
        try {
          validateCallback(parseCallback(text), { state: STATE, issuer: 'https://issuer.test', issRequired: false });
        } catch (error) {
          if (!(error instanceof TokentrayError)) throw error;
          return;
        }
        // Acceptance is only possible with the exact state: the generator never produces it alone.
        throw new Error(`accepted a callback without the real state: ${text.slice(0, 200)}`);
      }),
      { seed: SEED, numRuns: PARSER_RUNS },
    );
  });

  it(`the loopback listener survives ${HTTP_RUNS} hostile requests, stores nothing, then takes the one valid callback (seed ${SEED})`, async () => {
    console.log(
      `loopback fuzz: seed=${SEED} requests=${HTTP_RUNS} (replay with FUZZ_SEED=${SEED} FUZZ_HTTP_RUNS=${HTTP_RUNS})`,
    );
    let completed = 0;
    const listener = await startLoopbackListener<string>({
      port: 0,
      path: '/callback/fuzz',
      expectedState: STATE,
      timeoutMs: 10 * 60_000,
      complete: async (params) => {
        completed += 1;
        return params.get('code') ?? '';
      },
      describe: () => 'Fuzz account.',
    });
    const requests = fc.sample(fc.tuple(path, query), { seed: SEED, numRuns: HTTP_RUNS });
    const dispatcher = new Agent({ connections: 16, pipelining: 1 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const [p, q] = requests[next++]!;
        const res = await request(`http://127.0.0.1:${listener.port}${p}?${q}`, { dispatcher, method: 'GET' }).catch(
          (error: unknown) => ({ statusCode: -1, error }),
        );
        if ('body' in res) await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log(`loopback fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(completed).toBe(0);
    expect(statuses.get(-1) ?? 0).toBe(0);
    expect(statuses.get(200) ?? 0).toBe(0);
    expect(statuses.get(500) ?? 0).toBe(0);
    const ok = await request(`http://127.0.0.1:${listener.port}/callback/fuzz?code=the-one&state=${STATE}`, {
      dispatcher,
    });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    expect(await listener.result).toBe('the-one');
    expect(completed).toBe(1);
    await dispatcher.close();
  }, 240_000);
});

describe('fuzzing deep links against a pending sign-in', () => {
  const DEEP_RUNS = Number(process.env['FUZZ_DEEP_RUNS'] ?? 3_000);

  it(`${DEEP_RUNS} hostile tokentray:// links never end a pending sign-in unless they carry its state exactly once (seed ${SEED})`, async () => {
    console.log(`deep-link fuzz: seed=${SEED} runs=${DEEP_RUNS} (replay with FUZZ_SEED=${SEED})`);
    const t = makeTestCore({ providers: [amocrm] });
    try {
      await t.core.setProvider('amocrm', {
        clientId: 'fuzz-client',
        clientSecret: 'fuzz-secret',
        redirectUri: 'tokentray://callback/amocrm',
      });
      const attempt = await t.core.startConnect('amocrm', { timeoutMs: 10 * 60_000 });
      expect(attempt.redirectUri).toBeNull();
      const state = new URL(attempt.authorizeUrl).searchParams.get('state')!;
      let settled: string | null = null;
      attempt.result.then(
        () => (settled = 'resolved'),
        (error: unknown) => (settled = error instanceof TokentrayError ? error.code : String(error)),
      );
      // The real state appears only in company it cannot stand in: twice, or beside a near miss.
      const stateValue = fc.oneof(
        value,
        fc.constant(`${state}&state=${state}`),
        fc.constant(`${state}&state=${state}x`),
        fc.constant(`${state.slice(0, -1)}`),
        fc.constant(`${state}${'a'.repeat(5000)}`),
      );
      const deepParam = fc.tuple(
        fc.constantFrom('code', 'error', 'error_description', 'referer', 'iss', 'state[]', 'STATE', 'x'),
        value,
      );
      const link = fc
        .tuple(
          fc.constantFrom('tokentray://callback/amocrm', 'tokentray://x', 'TOKENTRAY://callback/amocrm'),
          fc.constantFrom('?', '#'),
          fc.array(deepParam, { maxLength: 6 }),
          fc.option(stateValue, { nil: undefined }),
        )
        .map(([base, sep, ps, s]) => {
          const parts = ps.map(([k, v]) => `${k}=${v}`);
          if (s !== undefined) parts.splice(ps.length > 0 ? 1 : 0, 0, `state=${s}`);
          return `${base}${sep}${parts.join('&')}`;
        });
      const links = [
        `tokentray://x?state=${state}&state=${state}`,
        `tokentray://x?state=a&state=b`,
        `tokentray://x?code=c&state=${'s'.repeat(5000)}`,
        `tokentray://x?code=${'c'.repeat(5000)}&code=d`,
        `tokentray://x?error=access_denied`,
        ...fc.sample(link, { seed: SEED, numRuns: DEEP_RUNS }),
      ];
      for (const url of links) {
        const taken = await t.core.handleDeepLink(url);
        await new Promise((resolve) => setImmediate(resolve));
        if (taken || settled !== null)
          throw new Error(`a link without the pending state ended the sign-in: ${url.slice(0, 200)}`);
      }
      // The link that carries the state once still settles it (here: the user said no).
      expect(await t.core.handleDeepLink(`tokentray://callback/amocrm?error=access_denied&state=${state}`)).toBe(true);
      await expect(attempt.result).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    } finally {
      await t.cleanup();
    }
  }, 120_000);
});
