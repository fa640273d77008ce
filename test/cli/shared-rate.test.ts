import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli } from '../support/cli';
import { freePort } from '../support/free-port';
import { makeTestCore, uniqueKeychainService } from '../support/test-core';

/**
 * amoCRM's 7 requests per second are per integration (developers.kommo.com/docs/limitations,
 * "Requests and IP block"), not per process: the tray app and a script running `tokentray
 * tasks` share them. Three real processes on one state directory must stay under the ceiling
 * together, as the emulator measures it over any sliding second.
 */
let emu: EmulatorHandle;
let home: string;
let service: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokentray-rate-'));
  service = uniqueKeychainService();
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  // The emulator answers 429 past 7/s and blocks the IP after a run of them, like amoCRM.
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 2_000 });
  const set = await runCli(amocrmSetArgs(emu, redirectUri), { home, service }, `${emu.clientSecret}\n`);
  expect(set.code).toBe(0);
  const code = emu.issueAuthorizationCode({ user: 'alice' });
  const connect = await runCli(['connect', 'amocrm', '--code', code, '--host', emu.host, '--label', 'shared'], {
    home,
    service,
  });
  expect(connect.stderr).toBe(connect.code === 0 ? connect.stderr : 'connect failed');
  expect(connect.code).toBe(0);
});

afterAll(async () => {
  await makeTestCore({ keychain: true, service, home }).cleanup();
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

describe('amoCRM request pacing across processes', () => {
  it('three `tokentray tasks` processes fetching 2,000 tasks each never exceed 7 requests in any second', async () => {
    const before = { api: emu.stats.apiRequests, pages: emu.stats.pagesServed };
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['tasks', 'shared', '--json'], { home, service })));
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const list = JSON.parse(r.stdout) as { tasks: unknown[]; offline: boolean };
      expect(list.offline).toBe(false);
      expect(list.tasks).toHaveLength(2_000);
    }
    // 8 pages of 250 each, plus the user list and the account (its time zone), per process: the three really overlapped.
    expect(emu.stats.pagesServed - before.pages).toBe(24);
    expect(emu.stats.apiRequests - before.api).toBe(30);
    expect(emu.stats.rateLimited).toBe(0);
    expect(emu.stats.blocked).toBe(false);
    console.log(`peak requests in any one second across 3 processes: ${emu.stats.peakRequestsPerSecond}`);
    expect(emu.stats.peakRequestsPerSecond).toBeGreaterThanOrEqual(4);
    expect(emu.stats.peakRequestsPerSecond).toBeLessThanOrEqual(7);
  });
});
