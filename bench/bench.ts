/**
 * `npm run bench`: every figure is a ratio or a count measured against a
 * baseline taken in the same run, so results compare across machines.
 * Prints a table; `--json` prints machine-readable figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { createHttpClient } from '../electron/core/http/client';
import { TokentrayCore } from '../electron/core/service';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import { seedScriptedAccount, startScriptedTokenServer } from '../test/fakes/scripted-token-server';
import { benchCoreRss, runRssChild } from './core-rss-bench';
import { benchRenderer } from './renderer-bench';
import { benchSharedStore } from './store-bench';
import { benchTaskSync, runSyncRssChild } from './task-sync-bench';
import { benchTasksFetch } from './tasks-bench';
import { median, percentile, timeIt } from './stats';

interface Figure {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean | null;
  detail: string;
}

const figures: Figure[] = [];
const add = (f: Figure): void => {
  figures.push(f);
  if (!process.argv.includes('--json')) console.error(`  ${f.name}: ${f.value.toFixed(2)} ${f.unit} (${f.detail})`);
};

const CLI = resolve('dist/cli/tokentray.cjs');

function makeCore(home: string, service: string): TokentrayCore {
  return new TokentrayCore({
    stateDir: home,
    providers: [],
    store: new KeytarSecretStore(service),
    http: createHttpClient(),
    clock: { now: () => Date.now() },
    demoBaseUrl: async () => Promise.reject(new Error('no demo in this bench')),
  });
}

async function benchCliToken(
  server: Awaited<ReturnType<typeof startScriptedTokenServer>>,
  home: string,
  service: string,
): Promise<void> {
  const core = makeCore(home, service);
  server.accept('rt-cli');
  const id = await seedScriptedAccount(core, server.url, {
    accessToken: 'at-cli',
    refreshToken: 'rt-cli',
    expiresAt: Date.now() + 3_600_000,
    issuedAt: Date.now(),
  });
  await core.close();
  const env = { ...process.env, TOKENTRAY_HOME: home, TOKENTRAY_KEYCHAIN_SERVICE: service };
  const runs = 25;
  const base: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < runs + 3; i += 1) {
    const a = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { env });
    const b = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'token', id], { env, encoding: 'utf8' });
    const c = performance.now();
    if (r.status !== 0 || r.stdout.trim() !== 'at-cli') throw new Error(`tokentray token failed: ${r.stderr}`);
    if (i >= 3) {
      base.push(b - a);
      cli.push(c - b);
    }
  }
  const ratio = median(cli) / median(base);
  add({
    name: 'cli_token_vs_node_start',
    value: ratio,
    unit: '×',
    target: '≤ 1.5×',
    ok: ratio <= 1.5,
    detail: `median ${median(cli).toFixed(1)} ms vs node -e 0 ${median(base).toFixed(1)} ms, ${runs} runs`,
  });
}

async function benchRefreshOverhead(
  server: Awaited<ReturnType<typeof startScriptedTokenServer>>,
  home: string,
  service: string,
): Promise<void> {
  const core = makeCore(home, service);
  const runs = 40;
  const raw: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < runs + 5; i += 1) {
    const rawToken = `rt-raw-${i}`;
    server.accept(rawToken);
    const rawMs = await timeIt(async () => {
      const res = await request(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: rawToken,
          client_id: 'client',
          client_secret: 'scripted-client-secret',
        }).toString(),
      });
      await res.body.json();
    });
    const rt = `rt-full-${i}`;
    server.accept(rt);
    const id = await seedScriptedAccount(core, server.url, {
      accessToken: `at-exp-${i}`,
      refreshToken: rt,
      expiresAt: Date.now() - 1000,
      issuedAt: Date.now() - 3_601_000,
    });
    const fullMs = await timeIt(() => core.getAccessToken(id));
    if (i >= 5) {
      raw.push(rawMs);
      full.push(fullMs - rawMs);
    }
  }
  const p95 = percentile(full, 95);
  add({
    name: 'refresh_overhead_p95_ms',
    value: p95,
    unit: 'ms',
    target: '≤ 20 ms',
    ok: p95 <= 20,
    detail: `getValidToken on an expired token minus one raw round trip (${median(raw).toFixed(2)} ms), ${runs} runs, real keychain`,
  });

  // 100 concurrent callers on one expired token.
  const single: number[] = [];
  const crowd: number[] = [];
  let calls = 0;
  for (let i = 0; i < 10; i += 1) {
    const rt1 = `rt-single-${i}`;
    server.accept(rt1);
    const id1 = await seedScriptedAccount(core, server.url, {
      accessToken: `at-s-${i}`,
      refreshToken: rt1,
      expiresAt: Date.now() - 1000,
      issuedAt: Date.now() - 3_601_000,
    });
    single.push(await timeIt(() => core.getAccessToken(id1)));
    const rt2 = `rt-crowd-${i}`;
    server.accept(rt2);
    const id2 = await seedScriptedAccount(core, server.url, {
      accessToken: `at-c-${i}`,
      refreshToken: rt2,
      expiresAt: Date.now() - 1000,
      issuedAt: Date.now() - 3_601_000,
    });
    const before = server.presented.length;
    crowd.push(await timeIt(() => Promise.all(Array.from({ length: 100 }, () => core.getAccessToken(id2)))));
    calls = Math.max(calls, server.presented.length - before);
  }
  add({
    name: 'concurrent_100_token_calls',
    value: calls,
    unit: 'calls',
    target: '= 1',
    ok: calls === 1,
    detail: 'token-endpoint calls for 100 concurrent getValidToken on one expired token (worst of 10)',
  });
  const ratio = median(crowd) / median(single);
  add({
    name: 'concurrent_100_vs_single',
    value: ratio,
    unit: '×',
    target: '≤ 1.3×',
    ok: ratio <= 1.3,
    detail: `median ${median(crowd).toFixed(1)} ms vs one refresh ${median(single).toFixed(1)} ms`,
  });
  await core.close();
}

async function benchLoopback(
  server: Awaited<ReturnType<typeof startScriptedTokenServer>>,
  home: string,
  service: string,
): Promise<void> {
  const core = makeCore(home, service);
  await seedScriptedAccount(core, server.url, {
    accessToken: 'seed',
    refreshToken: null,
    expiresAt: null,
    issuedAt: Date.now(),
  });
  const runs = 30;
  const overhead: number[] = [];
  for (let i = 0; i < runs + 3; i += 1) {
    const attempt = await core.startConnect('scripted');
    const state = new URL(attempt.authorizeUrl).searchParams.get('state')!;
    // The emulator's own time for what a connect costs it: one token exchange and one identity call.
    const emulatorMs = await timeIt(async () => {
      const t = await request(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=x',
      });
      await t.body.json();
      const u = await request(`${server.url}/userinfo`);
      await u.body.json();
    });
    const totalMs = await timeIt(async () => {
      const res = await request(`${attempt.redirectUri!}?code=code-${i}&state=${state}`);
      await res.body.dump();
      await attempt.result;
      const listed = await core.listAccounts();
      if (listed.length === 0) throw new Error('account not listed');
    });
    if (i >= 3) overhead.push(totalMs - emulatorMs);
  }
  const p95 = percentile(overhead, 95);
  add({
    name: 'loopback_to_listed_p95_ms',
    value: p95,
    unit: 'ms',
    target: '≤ 150 ms',
    ok: p95 <= 150,
    detail: `callback received → account stored and listed, minus the emulator's own time, ${runs} runs`,
  });
  await core.close();
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tokentray-bench-'));
  const service = `tokentray-bench-${process.pid}`;
  const server = await startScriptedTokenServer();
  const json = process.argv.includes('--json');
  if (!json)
    console.error(
      `Tokentray benchmarks on ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
  try {
    // `--only=renderer,tasks` runs some sections; by default all of them.
    const only = process.argv
      .find((a) => a.startsWith('--only='))
      ?.slice('--only='.length)
      .split(',');
    const want = (section: string): boolean => !only || only.includes(section);
    if (want('cli')) await benchCliToken(server, join(home, 'cli'), `${service}-cli`);
    if (want('refresh')) await benchRefreshOverhead(server, join(home, 'refresh'), `${service}-refresh`);
    if (want('loopback')) await benchLoopback(server, join(home, 'loopback'), `${service}-loopback`);
    if (want('store')) for (const f of await benchSharedStore(server, `${service}-store`)) add(f);
    if (want('tasks')) for (const f of [...(await benchTasksFetch()), ...(await benchCoreRss())]) add(f);
    if (want('sync')) for (const f of await benchTaskSync()) add(f);
    if (want('renderer')) for (const f of await benchRenderer()) add(f);
  } finally {
    await server.close();
    for (const suffix of ['cli', 'refresh', 'loopback']) {
      const store = new KeytarSecretStore(`${service}-${suffix}`);
      for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    }
    rmSync(home, { recursive: true, force: true });
  }
  if (json) {
    console.log(
      JSON.stringify(
        {
          machine: {
            cpus: cpus().length,
            model: cpus()[0]?.model,
            memGiB: Math.round(totalmem() / 2 ** 30),
            node: process.version,
          },
          figures,
        },
        null,
        2,
      ),
    );
  } else {
    const rows = [
      ['figure', 'value', 'target', 'met'],
      ...figures.map((f) => [
        f.name,
        `${f.value.toFixed(2)} ${f.unit}`,
        f.target,
        f.ok === null ? '-' : f.ok ? 'yes' : 'NO',
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
  }
}

export type { Figure };

// `--rss-child` / `--sync-rss-child`: this bench re-run as the process whose memory
// core-rss-bench / task-sync-bench measures.
(process.argv.includes('--rss-child')
  ? runRssChild()
  : process.argv.includes('--sync-rss-child')
    ? runSyncRssChild()
    : main()
).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
