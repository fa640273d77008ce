/**
 * Peak RSS of the core fetching 10,000 and then 100,000 tasks, each in a
 * process of its own (this bench re-run with `--rss-child`), so one fetch's
 * garbage never counts against the other and the ClickUp emulator serving the
 * pages (in this process) never counts at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpClient, type HttpClient } from '../electron/core/http/client';
import { clickup } from '../electron/core/providers/clickup';
import { TokentrayCore } from '../electron/core/service';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import { startClickupEmulator } from '../test/fakes/clickup-emulator';
import type { Figure } from './bench';
import { memoryInChild, peakRssMiB } from './stats';

interface ChildJob {
  url: string;
  token: string;
  clientId: string;
  clientSecret: string;
  home: string;
  service: string;
  tasks: number;
}

const JOB_ENV = 'TOKENTRAY_BENCH_RSS_JOB';

function unpaced(inner: HttpClient): HttpClient {
  return {
    send: (req) => inner.send({ ...req, rateKey: undefined }),
    api: (req) => inner.api({ ...req, rateKey: undefined }),
  };
}

/** In the child: connect, fetch once, print this process's RSS before and at its peak. */
export async function runRssChild(): Promise<void> {
  const job = JSON.parse(process.env[JOB_ENV] ?? '{}') as ChildJob;
  const core = new TokentrayCore({
    stateDir: job.home,
    providers: [clickup],
    store: new KeytarSecretStore(job.service),
    http: unpaced(createHttpClient()),
    clock: { now: () => Date.now() },
    demoBaseUrl: async () => Promise.reject(new Error('no demo in this bench')),
  });
  try {
    await core.setProvider('clickup', {
      clientId: job.clientId,
      clientSecret: job.clientSecret,
      redirectUri: 'http://127.0.0.1:8977/callback/clickup',
      authorizeUrl: `${job.url}/api`,
      tokenUrl: `${job.url}/api/v2/oauth/token`,
      apiUrl: `${job.url}/api/v2`,
    });
    const account = await core.connectWithToken('clickup', job.token);
    const before = process.memoryUsage().rss;
    const list = await core.tasks(account.id);
    if (list.tasks.length !== job.tasks) throw new Error(`expected ${job.tasks} tasks, got ${list.tasks.length}`);
    console.log(JSON.stringify({ beforeMiB: before / 2 ** 20, peakMiB: peakRssMiB() }));
  } finally {
    await core.close();
  }
}

async function inChild(tasks: number): Promise<{ beforeMiB: number; peakMiB: number }> {
  const home = mkdtempSync(join(tmpdir(), 'tokentray-bench-rss-'));
  const service = `tokentray-bench-rss-${process.pid}-${tasks}`;
  const emu = await startClickupEmulator({
    redirectUri: 'http://127.0.0.1:8977/callback/clickup',
    taskCount: tasks,
    teams: [{ id: '9001', name: 'Bench workspace' }],
    requestsPerMinute: 1_000_000,
  });
  try {
    const job: ChildJob = {
      url: emu.url,
      token: emu.issuePersonalToken('bench'),
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      home,
      service,
      tasks,
    };
    return await memoryInChild('--rss-child', JOB_ENV, job, `the RSS child for ${tasks} tasks`);
  } finally {
    await emu.close();
    const store = new KeytarSecretStore(service);
    for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchCoreRss(): Promise<Figure[]> {
  const ten = await inChild(10_000);
  const hundred = await inChild(100_000);
  return [
    {
      name: 'core_fetch_10k_peak_rss_mb',
      value: ten.peakMiB,
      unit: 'MiB',
      target: 'report',
      ok: null,
      detail: `a core process of its own fetching 10,000 ClickUp tasks (cache write included); ${ten.beforeMiB.toFixed(0)} MiB before the fetch`,
    },
    {
      name: 'core_fetch_100k_peak_rss_mb',
      value: hundred.peakMiB,
      unit: 'MiB',
      target: 'report',
      ok: null,
      detail: `the same with 100,000 tasks beside it; ${hundred.beforeMiB.toFixed(0)} MiB before the fetch`,
    },
  ];
}
