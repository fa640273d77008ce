// The tray follows account changes made by other processes through the accounts
// folder, never through the keychain.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchAccountsDir } from '../../electron/core/vault/state-watch';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const tick = (): void => (check() ? resolve() : void setTimeout(tick, 10));
    tick();
  });
}

describe('watching the accounts folder', () => {
  it('reports a metadata file written by another process, once per burst, and stops when asked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tokentray-watch-'));
    dirs.push(root);
    // The folder does not exist yet (nothing connected): the watcher creates it.
    const dir = join(root, 'accounts');
    let calls = 0;
    const stop = watchAccountsDir(dir, () => (calls += 1), { debounceMs: 100 });
    // A write as metadata.ts does it: temp file, then the final name.
    writeFileSync(join(dir, '.1.tmp'), '{}');
    writeFileSync(join(dir, 'demo-alice.json'), '{}');
    await until(() => calls > 0);
    expect(calls).toBe(1);
    stop();
    writeFileSync(join(dir, 'demo-bob.json'), '{}');
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
  });

  it('falls back to a slow poll of file times where the folder cannot be watched', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tokentray-watch-'));
    dirs.push(root);
    const dir = join(root, 'accounts');
    let calls = 0;
    const stop = watchAccountsDir(dir, () => (calls += 1), {
      debounceMs: 1,
      pollMs: 25,
      watch: () => {
        throw Object.assign(new Error('not supported on this file system'), { code: 'ENOSYS' });
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(0);
    writeFileSync(join(dir, 'demo-alice.json'), '{}');
    await until(() => calls > 0);
    stop();
  });
});
