/**
 * A Chromium trace of the tasks view's 100,000-task flick (the bench's longest-frame case), and what its
 * long main-thread tasks are made of: wall time against the thread's CPU time, and the events inside.
 * Not part of `npm run bench` (tracing slows every frame); run it by hand after `npm run build`:
 *
 *   node_modules/.bin/esbuild bench/flick-trace.ts --bundle --platform=node --format=cjs \
 *     --outfile=dist/bench/flick-trace.cjs --external:playwright-core --external:keytar --external:electron \
 *     --external:pg-native --external:oidc-provider && node scripts/with-keyring.mjs node dist/bench/flick-trace.cjs
 *
 * TOKENTRAY_DEMO_TASKS picks another size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closeDemoServer } from '../electron/core/demo/demo-server';
import { startBridge } from '../electron/dev/bridge-server';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import { launchBrowser, signInThroughPopup } from '../test/e2e/support';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

// `cc` carries the frames (ProxyMain::BeginMainFrame); the others what runs inside them.
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8', 'blink', 'cc'];
const LONG_US = 50_000;

function report(events: TraceEvent[]): void {
  const names = new Map<string, string>();
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}|${e.tid}`, e.args?.name ?? '');
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = `${e.pid}|${e.tid}`;
    if (names.get(key) === 'CrRendererMain') counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // The app page's renderer is the busiest one.
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const slices = events
    .filter((e) => `${e.pid}|${e.tid}` === main && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const tasks = slices.filter((e) => e.name === 'ThreadControllerImpl::RunTask');
  const long = tasks.filter((t) => t.dur! > LONG_US);
  const ms = (us: number): string => (us / 1000).toFixed(1);
  const frames = slices.filter((e) => e.name === 'ProxyMain::BeginMainFrame');
  const cpu = tasks.reduce((n, t) => n + (t.tdur ?? 0), 0);
  console.log(
    `${frames.length} frames; main-thread tasks: ${ms(cpu)} ms of CPU, ${ms(cpu / Math.max(1, frames.length))} ms a frame`,
  );
  console.log(`${long.length} tasks over 50 ms (wall / thread CPU, then the biggest events inside by wall time):`);
  for (const t of long) {
    const inside = new Map<string, { wall: number; cpu: number }>();
    for (const e of slices) {
      if (e === t || e.ts < t.ts || e.ts + e.dur! > t.ts + t.dur!) continue;
      const s = inside.get(e.name) ?? { wall: 0, cpu: 0 };
      s.wall += e.dur!;
      s.cpu += e.tdur ?? 0;
      inside.set(e.name, s);
    }
    const top = [...inside]
      .sort((a, b) => b[1].wall - a[1].wall)
      .slice(0, 6)
      .map(([name, s]) => `${name} ${ms(s.wall)}/${ms(s.cpu)}`);
    console.log(`  ${ms(t.dur!)} / ${ms(t.tdur ?? 0)} ms: ${top.join(', ')}`);
  }
}

async function main(): Promise<void> {
  const tasks = Number(process.env['TOKENTRAY_DEMO_TASKS'] ?? 100_000);
  process.env['TOKENTRAY_DEMO_TASKS'] = String(tasks);
  const home = mkdtempSync(join(tmpdir(), 'tokentray-flick-trace-'));
  const service = `tokentray-flick-trace-${process.pid}`;
  const bridge = await startBridge({ home, keychainService: service, rendererDir: resolve('dist/renderer') });
  const context = await launchBrowser();
  try {
    const page = await context.newPage();
    await page.goto(bridge.url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await signInThroughPopup(context, page);
    await page.getByTestId('nav-tasks').click();
    await page.getByRole('radio', { name: 'All' }).click();
    await page
      .getByTestId('task-count')
      .getByText(`${tasks.toLocaleString('en-US')} tasks`)
      .waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('.toolbar__updating'), undefined, { timeout: 120_000 });
    const cdp = await context.newCDPSession(page);
    const events: TraceEvent[] = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
    const complete = new Promise<void>((done) => cdp.once('Tracing.tracingComplete', () => done()));
    await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: CATEGORIES } });
    // The bench's flick: three screens a frame from the top to the end.
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          const list = document.querySelector('[data-testid="task-list"]') as HTMLElement;
          const step = (): void => {
            if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) return done();
            list.scrollTop += list.clientHeight * 3;
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
    );
    await cdp.send('Tracing.end');
    await complete;
    report(events);
  } finally {
    await context.close();
    await bridge.close();
    await closeDemoServer();
    const store = new KeytarSecretStore(service);
    for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
