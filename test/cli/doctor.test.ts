// `tokentray doctor` as a user runs it: the built CLI against a real keychain (the test keyring),
// then with no D-Bus at all, a folder other users can write to, and an account whose grant died.
// Every run's output is searched for the tokens the provider issued and the client secret.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorReportSchema, type DoctorReport } from '../../electron/core/doctor/doctor-report';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { NO_DBUS } from '../support/no-dbus';
import { uniqueKeychainService } from '../support/test-core';

const home = mkdtempSync(join(tmpdir(), 'tokentray-doctor-'));
const service = uniqueKeychainService();
let emu: EmulatorHandle;
let redirectUri: string;
const printed: string[] = [];

async function cli(args: string[], extra: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  const r = await runCli(args, { home, service, extra }, stdin);
  printed.push(r.stdout, r.stderr);
  return r;
}

/** `doctor --json`, checked against the published schema, with its exit code. */
async function doctor(extra: Record<string, string> = {}): Promise<{ code: number; report: DoctorReport }> {
  const r = await cli(['doctor', '--json'], extra);
  const report = doctorReportSchema.parse(JSON.parse(r.stdout));
  expect(report.exitCode).toBe(r.code);
  return { code: r.code, report };
}

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 2 });
  const set = await cli(amocrmSetArgs(emu, redirectUri), {}, emu.clientSecret);
  expect(set.code, set.stderr).toBe(0);
  const connected = await cli([
    'connect',
    'amocrm',
    '--code',
    emu.issueAuthorizationCode({ user: 'alice' }),
    '--host',
    'example.amocrm.ru',
    '--label',
    'work-amo',
  ]);
  expect(connected.code, connected.stderr).toBe(0);
  // A refresh, so a rotated-out pair is among the tokens searched for too.
  expect((await cli(['refresh', 'work-amo'])).code).toBe(0);
});

afterAll(async () => {
  const { KeytarSecretStore } = await import('../../electron/core/vault/keytar-store');
  const keychain = new KeytarSecretStore(service);
  for (const k of await keychain.keys().catch(() => [])) await keychain.delete(k).catch(() => undefined);
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

describe('tokentray doctor', () => {
  it('on a healthy keychain: exit 0, the store answers, the account can refresh, the provider shows its endpoints', async () => {
    const { code, report } = await doctor();
    expect(code, JSON.stringify(report.problems)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.store).toMatchObject({ kind: 'local', answers: true, accounts: 1 });
    expect(report.keychain).toMatchObject({ service, state: 'ok', needed: true });
    expect(report.versions.tokentray).toBe(
      (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version,
    );
    expect(report.versions.node).toBe(process.versions.node);
    expect(report.versions.electron).toBeNull();
    const amo = report.providers.find((p) => p.id === 'amocrm');
    expect(amo).toMatchObject({ configured: true, clientId: emu.clientId, hasClientSecret: true, redirectUri });
    expect(amo?.endpoints?.apiUrl).toBe(emu.url);
    expect(report.providers.find((p) => p.id === 'clickup')?.configured).toBe(false);
    expect(report.accounts).toEqual([
      expect.objectContaining({
        label: 'work-amo',
        provider: 'amocrm',
        status: 'ok',
        hasRefreshToken: true,
        secretStored: true,
        refreshable: true,
        refreshProblem: null,
      }),
    ]);
    for (const role of ['state', 'accounts', 'providers', 'keychain locks', 'keychain locks (this service)'])
      expect(report.directories.find((d) => d.role === role)).toMatchObject({
        exists: true,
        mode: '700',
        problem: null,
      });

    const human = await cli(['doctor']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Store\s+the keychain .*answers, 1 account/);
    expect(human.stdout).toMatch(/work-amo\s+amocrm\s+ok/);
    expect(human.stdout).toContain('Everything Tokentray needs here is usable.');
  });

  it('without D-Bus: exit 5, the keychain reported absent, the account still listed', async () => {
    // A hang (a D-Bus autolaunch, a probe never answered) would run into the test's timeout.
    const { code, report } = await doctor(NO_DBUS);
    expect(code).toBe(5);
    expect(report.keychain.state).toBe('absent');
    expect(report.keychain.detail).toMatch(/no D-Bus session bus/);
    expect(report.store).toMatchObject({ kind: 'local', answers: false });
    expect(report.problems.map((p) => p.where)).toContain('store');
    expect(report.accounts.map((a) => a.label)).toEqual(['work-amo']);
    const human = await cli(['doctor'], NO_DBUS);
    expect(human.code).toBe(5);
    expect(human.stdout).toMatch(/Keychain\s+absent/);
    expect(human.stdout).toMatch(/problem.*\(exit 5\)/);
  });

  it('a session bus that never answers: the probe is given up (no-answer) and doctor exits 5', async () => {
    // A socket that accepts D-Bus's connection and then says nothing, as a wedged bus or daemon would.
    const socketPath = join(home, 'silent-bus.sock');
    const held: Socket[] = [];
    const bus = createServer((socket) => held.push(socket.on('data', () => undefined)));
    await new Promise<void>((resolve) => bus.listen(socketPath, resolve));
    try {
      const { code, report } = await doctor({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${socketPath}` });
      expect(code).toBe(5);
      expect(report.keychain.state).toBe('no-answer');
      expect(report.keychain.detail).toMatch(/did not answer within 8 s/);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => bus.close(() => resolve()));
    }
  });

  it('flags a lock folder other users can write to (exit 1) and is clean again once it is 0700', async () => {
    // The keychain's locks live in /tmp/tokentray-<uid>/<service hash>, shared by every home.
    const role = 'keychain locks (this service)';
    const locks = (await doctor()).report.directories.find((d) => d.role === role)!.path;
    chmodSync(locks, 0o777);
    try {
      const { code, report } = await doctor();
      expect(code).toBe(1);
      expect(report.directories.find((d) => d.role === role)).toMatchObject({ mode: '777' });
      expect(report.problems).toEqual([
        expect.objectContaining({ exitCode: 1, where: locks, message: expect.stringContaining(`chmod 700 ${locks}`) }),
      ]);
    } finally {
      chmodSync(locks, 0o700);
    }
    expect((await doctor()).code).toBe(0);
  });

  it('an account whose grant the provider revoked: exit 3, it cannot refresh, and says to reconnect', async () => {
    emu.revokeAll();
    expect((await cli(['refresh', 'work-amo'])).code).toBe(3);
    const { code, report } = await doctor();
    expect(code).toBe(3);
    expect(report.accounts[0]).toMatchObject({ status: 'reconnect', refreshable: false });
    expect(report.accounts[0]?.refreshProblem).toMatch(/connect/i);
    expect(report.problems).toEqual([expect.objectContaining({ exitCode: 3, where: 'account work-amo' })]);
  });

  it('never prints a token or the client secret', () => {
    const all = printed.join('\n');
    const secrets = [...emu.issuedTokens(), emu.clientSecret];
    expect(emu.issuedTokens().length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
