import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { uniqueKeychainService } from '../support/test-core';

/**
 * Issue 20, Medium 2: when `npm start` falls back to the development bridge, the bridge's
 * secret must not reach the opener's argv (readable by any local user in /proc/<pid>/cmdline).
 * The real bridge entry runs with a stand-in xdg-open on PATH that records its arguments.
 */
const BRIDGE = resolve('dist/dev/bridge-server.cjs');
const dirs: string[] = [];
let child: ChildProcess | null = null;

afterEach(() => {
  child?.kill('SIGTERM');
  child = null;
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function poll<T>(read: () => T | null, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start falling back to the bridge', () => {
  it('opens the browser through a 0600 launch page: the opener never sees the secret', async () => {
    const bin = tempDir('tokentray-opener-');
    const record = join(bin, 'argv.txt');
    writeFileSync(
      join(bin, 'xdg-open'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}.tmp' && mv '${record}.tmp' '${record}'\n`,
    );
    chmodSync(join(bin, 'xdg-open'), 0o755);
    // The bridge finds the built renderer under its working directory's dist/renderer.
    const cwd = tempDir('tokentray-bridge-cwd-');
    mkdirSync(join(cwd, 'dist', 'renderer'), { recursive: true });
    writeFileSync(join(cwd, 'dist', 'renderer', 'index.html'), '<!doctype html><title>t</title>');
    const home = tempDir('tokentray-bridge-home-');

    let stdout = '';
    child = spawn(process.execPath, [BRIDGE], {
      cwd,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env['PATH'] ?? ''}`,
        TOKENTRAY_HOME: home,
        TOKENTRAY_KEYCHAIN_SERVICE: uniqueKeychainService(),
        TOKENTRAY_BRIDGE_OPEN_BROWSER: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));

    const url = await poll(
      () => /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(stdout)?.[0] ?? null,
      'the bridge URL',
    );
    const secret = new URL(url).searchParams.get('token')!;
    const argv = await poll(
      () => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : null),
      'xdg-open',
    );

    expect(argv.join(' ')).not.toContain(secret);
    expect(argv).toHaveLength(1);
    const page = argv[0]!;
    expect(page.startsWith(join(home, 'run'))).toBe(true);
    expect(statSync(page).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(page)).mode & 0o777).toBe(0o700);
    // The page forwards the browser to the bridge (HTML-escaped in the attribute).
    expect(readFileSync(page, 'utf8')).toContain(`url=${url.replace(/&/g, '&#38;')}`);

    // Once the browser is in, the secret is not left on disk.
    const port = new URL(url).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ipc?token=${secret}`, { origin: `http://127.0.0.1:${port}` });
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    await poll(() => (existsSync(page) ? null : true), 'the launch page to be deleted');
    expect(existsSync(dirname(page))).toBe(false);
    ws.close();
  }, 30_000);
});
