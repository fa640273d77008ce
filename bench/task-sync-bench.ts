/**
 * The incremental task sync (issue 22), each figure a ratio or a count in one run:
 * - per provider emulator (ClickUp, amoCRM, Basecamp) with 10,000 tasks: the requests an unchanged
 *   account's sync makes against a full walk's, and its wall time; then 3 tasks changed and 1 added:
 *   the requests again, and whether the synced list equals a full walk's field by field;
 * - the sync's peak RSS with 100,000 tasks against 10,000, each in a process of its own (this bench
 *   re-run with `--sync-rss-child`; the emulator stays in this process), syncing 3 changes and 1 new
 *   task into a saved base through TokentrayCore.syncTasks, as the tray's background sync does.
 * The cores' client pacing sleeps pass in virtual time (test/support/sync-target-*.ts), so the wall
 * time is the sync's own work; an unchanged sync is one or two requests, which pacing does not delay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createHttpClient, type HttpClient } from '../electron/core/http/client';
import { clickup } from '../electron/core/providers/clickup';
import { TokentrayCore } from '../electron/core/service';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import { startClickupEmulator } from '../test/fakes/clickup-emulator';
import { targets, type Clock } from '../test/support/sync-target-emulators';
import { byId, comparable } from '../test/support/sync-targets';
import type { Figure } from './bench';
import { memoryInChild, peakRssMiB, timeIt } from './stats';

const TASKS = 10_000;
const JOB_ENV = 'TOKENTRAY_BENCH_SYNC_RSS_JOB';

async function providerFigures(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const make of targets) {
    const clock: Clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
    const target = await make.start(clock, { tasks: TASKS });
    try {
      const { synced, reference } = target;
      let before = target.requests();
      const walked = await synced.t.core.tasks(synced.accountId, { full: true });
      const fullRequests = target.requests() - before;

      before = target.requests();
      let unchangedMode = '';
      const wallMs = await timeIt(async () => {
        unchangedMode = (await synced.t.core.tasks(synced.accountId)).syncMode ?? '';
      });
      const unchanged = target.requests() - before;

      for (let i = 0; i < 3; i += 1) target.apply({ kind: 'update', pick: 17 + i * 997 });
      target.apply({ kind: 'create' });
      before = target.requests();
      const changed = await synced.t.core.tasks(synced.accountId);
      const changedRequests = target.requests() - before;
      const full = await reference.t.core.tasks(reference.accountId, { full: true });
      const identical =
        changed.syncMode === 'incremental' &&
        isDeepStrictEqual(byId(changed.tasks).map(comparable), byId(full.tasks).map(comparable));
      const key = make.name.toLowerCase().replace(/[^a-z]/g, '');
      const share = (n: number): number => (100 * n) / fullRequests;
      // One request is the floor of any sync (something must ask whether anything changed). amoCRM
      // pages tasks 250 at most (amocrm.ru/developers/content/crm_platform/tasks-api, "Список задач":
      // limit "Максимум – 250"), so a full walk of 10,000 is 42 requests and its one request is
      // 2.4%: the issue's 2% cannot be met below 1.
      const cheap = (n: number): boolean => share(n) <= 2 || n <= 1;
      out.push(
        {
          name: `sync_${key}_10k_unchanged_requests_pct`,
          value: share(unchanged),
          unit: '%',
          target: '≤ 2% (or 1)',
          ok: cheap(unchanged) && unchangedMode === 'incremental',
          detail: `${unchanged} request(s) vs ${fullRequests} for the full walk of ${walked.tasks.length} tasks (${unchangedMode})`,
        },
        {
          name: `sync_${key}_10k_unchanged_wall_ms`,
          value: wallMs,
          unit: 'ms',
          target: '≤ 1000 ms',
          ok: wallMs <= 1000,
          detail: 'core.tasks on an unchanged account: the sync, the base rewritten, the list handed out',
        },
        {
          name: `sync_${key}_10k_3changed_1added_requests_pct`,
          value: share(changedRequests),
          unit: '%',
          target: '≤ 2% (or 1), identical',
          ok: cheap(changedRequests) && identical,
          detail: `${changedRequests} request(s); the synced list ${identical ? 'equals' : 'DIFFERS from'} a full walk's, field by field`,
        },
      );
    } finally {
      await target.close();
    }
  }
  return out;
}

interface ChildJob {
  url: string;
  clientId: string;
  clientSecret: string;
  home: string;
  service: string;
  accountId: string;
}

function makeCore(job: Pick<ChildJob, 'home' | 'service'>, http: HttpClient): TokentrayCore {
  return new TokentrayCore({
    stateDir: job.home,
    providers: [clickup],
    store: new KeytarSecretStore(job.service),
    http,
    clock: { now: () => Date.now() },
    demoBaseUrl: async () => Promise.reject(new Error('no demo in this bench')),
  });
}

function unpaced(inner: HttpClient): HttpClient {
  return {
    send: (req) => inner.send({ ...req, rateKey: undefined }),
    api: (req) => inner.api({ ...req, rateKey: undefined }),
  };
}

/** In the child: one background sync of a saved base; prints this process's peak RSS. */
export async function runSyncRssChild(): Promise<void> {
  const job = JSON.parse(process.env[JOB_ENV] ?? '{}') as ChildJob;
  const core = makeCore(job, unpaced(createHttpClient()));
  try {
    const before = process.memoryUsage().rss;
    const summary = await core.syncTasks(job.accountId);
    if (summary.mode !== 'incremental' || summary.received < 4) {
      throw new Error(`expected an incremental sync of 4 changes, got ${summary.mode} with ${summary.received}`);
    }
    console.log(JSON.stringify({ beforeMiB: before / 2 ** 20, peakMiB: peakRssMiB() }));
  } finally {
    await core.close();
  }
}

async function syncRss(tasks: number): Promise<{ beforeMiB: number; peakMiB: number }> {
  const home = mkdtempSync(join(tmpdir(), 'tokentray-bench-sync-rss-'));
  const service = `tokentray-bench-sync-rss-${process.pid}-${tasks}`;
  const emu = await startClickupEmulator({
    redirectUri: 'http://127.0.0.1:8977/callback/clickup',
    taskCount: tasks,
    teams: [{ id: '9001', name: 'Bench workspace' }],
    requestsPerMinute: 1_000_000,
  });
  try {
    // This process walks the account once to save the base the child syncs.
    const core = makeCore({ home, service }, unpaced(createHttpClient()));
    let accountId: string;
    try {
      await core.setProvider('clickup', {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        redirectUri: 'http://127.0.0.1:8977/callback/clickup',
        authorizeUrl: `${emu.url}/api`,
        tokenUrl: `${emu.url}/api/v2/oauth/token`,
        apiUrl: `${emu.url}/api/v2`,
      });
      accountId = (await core.connectWithToken('clickup', emu.issuePersonalToken('bench'))).id;
      await core.syncTasks(accountId, { full: true });
    } finally {
      await core.close();
    }
    const ids = emu.mutate.taskIds();
    for (let i = 0; i < 3; i += 1) emu.mutate.update(ids[(i * 3331) % ids.length]!, { title: `changed ${i}` });
    emu.mutate.create(emu.mutate.containers()[0]!, { title: 'added' });
    const job: ChildJob = {
      url: emu.url,
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      home,
      service,
      accountId,
    };
    return await memoryInChild('--sync-rss-child', JOB_ENV, job, `the sync RSS child for ${tasks} tasks`);
  } finally {
    await emu.close();
    const store = new KeytarSecretStore(service);
    for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchTaskSync(): Promise<Figure[]> {
  const figures = await providerFigures();
  const ten = await syncRss(10_000);
  const hundred = await syncRss(100_000);
  const ratio = hundred.peakMiB / ten.peakMiB;
  figures.push({
    name: 'sync_100k_vs_10k_peak_rss',
    value: ratio,
    unit: '×',
    target: '≤ 1.5×',
    ok: ratio <= 1.5,
    detail: `a core process of its own syncing 3 changed and 1 added ClickUp task into a saved base: ${hundred.peakMiB.toFixed(0)} MiB at 100,000, ${ten.peakMiB.toFixed(0)} MiB at 10,000 (${ten.beforeMiB.toFixed(0)} MiB before the sync)`,
  });
  return figures;
}
