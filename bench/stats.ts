import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: number[]): number => percentile(values, 50);

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * This process's peak resident set, in MiB. Linux keeps getrusage's ru_maxrss across execve, so a
 * child spawned by a big parent would report the parent's size; VmHWM belongs to the process's own
 * address space, which execve replaces. Elsewhere ru_maxrss is the best there is.
 */
export function peakRssMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * This bench re-run with `flag` as a process of its own, handed `job` in the environment variable
 * `jobEnv`; its last stdout line is the memory it measured. The parent keeps serving the emulator
 * from its event loop meanwhile, so the child runs asynchronously.
 */
export async function memoryInChild(
  flag: string,
  jobEnv: string,
  job: unknown,
  what: string,
): Promise<{ beforeMiB: number; peakMiB: number }> {
  const child = spawn(process.execPath, [process.argv[1]!, flag], {
    env: { ...process.env, [jobEnv]: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { beforeMiB: number; peakMiB: number };
}
