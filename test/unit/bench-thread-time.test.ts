// The bench tells a frame lost to the machine's load from one lost to work in the page by the
// page's main-thread scheduler statistics; these check it reads the right process and thread.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { pageRendererPid, since, threadTime } from '../../bench/thread-time';

const linux = process.platform === 'linux';
const children: ChildProcess[] = [];

/** A process of ours whose command line looks like a Chromium renderer's. */
async function fakeRenderer(...flags: string[]): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '--type=renderer', ...flags]);
  children.push(child);
  await new Promise((ready) => child.once('spawn', ready));
  return child.pid!;
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

describe.runIf(linux)('bench thread time (Linux schedstat)', () => {
  it('counts the CPU time the main thread spent, not the wall time that passed', () => {
    const before = threadTime(process.pid);
    expect(before).not.toBeNull();
    // Busy until this process has used 40 ms of CPU, however long the loaded machine takes to give it that.
    const start = process.cpuUsage();
    while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < 40);
    const spent = since(process.pid, before)!;
    expect(spent.cpuMs).toBeGreaterThanOrEqual(30);
    expect(spent.waitMs).toBeGreaterThanOrEqual(0);
  });

  it("finds the bench's own renderer process and skips extension renderers", async () => {
    const extension = await fakeRenderer('--extension-process');
    const renderer = await fakeRenderer();
    const found = pageRendererPid();
    expect(found).toBe(renderer);
    expect(found).not.toBe(extension);
  });

  it('reads nothing for a process that is gone', () => {
    expect(threadTime(2 ** 22 + 7)).toBeNull();
    expect(since(null, { cpuMs: 1, waitMs: 1 })).toBeNull();
  });
});
