import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { makeTestCore, uniqueKeychainService } from '../support/test-core';

/** Issue 20, Low: `store use` can take the connection string on stdin, and warns about a password in argv. */
const home = mkdtempSync(join(tmpdir(), 'tokentray-store-stdin-'));
const service = uniqueKeychainService();
afterAll(async () => {
  await makeTestCore({ keychain: true, service, home }).cleanup();
  rmSync(home, { recursive: true, force: true });
});

describe('tokentray store use and secrets in argv', () => {
  // Port 1 on loopback answers nothing: both forms reach the same connection attempt and stop there.
  const url = 'postgres://tokentray:hunter2-pw@127.0.0.1:1/tokentray';

  it('warns when the connection string on the command line holds a password', async () => {
    const r = await runCli(['store', 'use', url, '--key-file', join(home, 'a.key')], { home, service });
    expect(r.stderr).toMatch(/warning: a password in the connection string on the command line .*--url-stdin/);
    expect(r.stderr).not.toContain('hunter2-pw');
    expect(r.code).toBe(4);
  });

  it('reads it from stdin with --url-stdin, without the warning, to the same result', async () => {
    const r = await runCli(
      ['store', 'use', '--url-stdin', '--key-file', join(home, 'b.key')],
      { home, service },
      `${url}\n`,
    );
    expect(r.stderr).not.toMatch(/warning/);
    expect(r.stderr).toMatch(/Shared store unreachable/);
    expect(r.code).toBe(4);
    const both = await runCli(['store', 'use', url, '--url-stdin'], { home, service }, url);
    expect(both.code).toBe(2);
  });
});
