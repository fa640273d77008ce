/**
 * 10,000 tasks from the ClickUp emulator: Tokentray's fetch (paging, zod
 * validation, normalisation, the offline cache write) against the same pages
 * fetched raw with undici and JSON.parse, in the same run; and the peak RSS of
 * this process while it happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createHttpClient, type HttpClient } from '../electron/core/http/client';
import { clickup } from '../electron/core/providers/clickup';
import { TokentrayCore } from '../electron/core/service';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import { startClickupEmulator } from '../test/fakes/clickup-emulator';
import type { Figure } from './bench';
import { median, timeIt } from './stats';

const TASKS = 10_000;

/**
 * ClickUp's client-side pacing (from its X-RateLimit-* headers, starting at the
 * documented 100/min floor) would make the overhead figure measure the limiter;
 * it lifts it, and the paced wall time is reported on its own.
 */
function unpaced(inner: HttpClient): HttpClient {
  return {
    send: (req) => inner.send({ ...req, rateKey: undefined }),
    api: (req) => inner.api({ ...req, rateKey: undefined }),
  };
}

function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

export async function benchTasksFetch(): Promise<Figure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tokentray-bench-tasks-'));
  const service = `tokentray-bench-tasks-${process.pid}`;
  const redirectUri = 'http://127.0.0.1:8977/callback/clickup';
  const emu = await startClickupEmulator({
    redirectUri,
    taskCount: TASKS,
    teams: [{ id: '9001', name: 'Bench workspace' }],
    // ClickUp's largest documented plan (Enterprise, 10,000 a minute), announced in X-RateLimit-Limit.
    requestsPerMinute: 10_000,
  });
  const make = (http: HttpClient): TokentrayCore =>
    new TokentrayCore({
      stateDir: home,
      providers: [clickup],
      store: new KeytarSecretStore(service),
      http,
      clock: { now: () => Date.now() },
      demoBaseUrl: async () => Promise.reject(new Error('no demo in this bench')),
    });
  const core = make(unpaced(createHttpClient()));
  try {
    await core.setProvider('clickup', {
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      redirectUri,
      authorizeUrl: `${emu.url}/api`,
      tokenUrl: `${emu.url}/api/v2/oauth/token`,
      apiUrl: `${emu.url}/api/v2`,
    });
    const token = emu.issuePersonalToken('bench');
    const account = await core.connectWithToken('clickup', token);

    const raw = async (): Promise<number> => {
      let count = 0;
      for (let page = 0; ; page += 1) {
        const res = await request(`${emu.url}/api/v2/team/9001/task?page=${page}&include_closed=true&subtasks=true`, {
          headers: { authorization: token },
        });
        const body = (await res.body.json()) as { tasks: unknown[]; last_page?: boolean };
        count += body.tasks.length;
        if (body.last_page || body.tasks.length < 100) return count;
      }
    };

    const rawMs: number[] = [];
    const oursMs: number[] = [];
    let peakRss = 0;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 6; i += 1) {
      let rawCount = 0;
      const r = await timeIt(async () => {
        rawCount = await raw();
      });
      let ours = 0;
      const sampler = sampleRss();
      const o = await timeIt(async () => {
        // A full walk each time: this figure is the whole account's read (the sync has its own section).
        ours = (await core.tasks(account.id, { full: true })).tasks.length;
      });
      peakRss = Math.max(peakRss, sampler.stop());
      if (rawCount !== TASKS || ours !== TASKS) throw new Error(`expected ${TASKS} tasks, got ${rawCount}/${ours}`);
      if (i > 0) {
        rawMs.push(r);
        oursMs.push(o);
      }
    }

    const paced = make(createHttpClient());
    let pacedMs = 0;
    try {
      pacedMs = await timeIt(async () => {
        await paced.tasks(account.id, { full: true });
      });
    } finally {
      await paced.close();
    }

    const ratio = median(oursMs) / median(rawMs);
    const mb = (bytes: number): number => bytes / 2 ** 20;
    return [
      {
        name: 'tasks_10k_vs_raw_fetch',
        value: ratio,
        unit: '×',
        target: 'report',
        ok: null,
        detail: `core.tasks ${median(oursMs).toFixed(0)} ms vs raw undici page fetch ${median(rawMs).toFixed(0)} ms (pacing lifted), 5 runs`,
      },
      {
        name: 'tasks_10k_peak_rss_mb',
        value: mb(peakRss),
        unit: 'MiB',
        target: 'report',
        ok: null,
        detail: `whole bench process; ${mb(rssBefore).toFixed(0)} MiB before the first fetch`,
      },
      {
        name: 'tasks_10k_paced_wall_s',
        value: pacedMs / 1000,
        unit: 's',
        target: 'report',
        ok: null,
        detail: `with ClickUp's pacing as the product runs it (the first request at ${clickup.requestsPerSecond.toFixed(2)}/s, then what an Enterprise plan's X-RateLimit-* headers allow): 100 pages`,
      },
    ];
  } finally {
    await core.close();
    await emu.close();
    const store = new KeytarSecretStore(service);
    for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
