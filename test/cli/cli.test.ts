import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { CLI, amocrmSetArgs, runCli, spawnCaptured, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { makeTestCore, readAllFiles, uniqueKeychainService } from '../support/test-core';

let emu: EmulatorHandle;
let home: string;
let service: string;
let redirectUri: string;
const outputs: CliResult[] = [];

async function cli(args: string[], stdin?: string, extra?: Record<string, string>): Promise<CliResult> {
  const result = await runCli(args, { home, service, ...(extra ? { extra } : {}) }, stdin);
  if (args[0] !== 'token') outputs.push(result);
  else outputs.push({ ...result, stdout: '' });
  return result;
}

/** Runs `tokentray connect` with the loopback flow and plays the user in the browser. */
async function connectThroughBrowser(user: string, label: string): Promise<CliResult> {
  const args = [CLI, 'connect', 'amocrm', '--no-browser', '--timeout', '30', '--label', label];
  const { child, done } = spawnCaptured(process.execPath, args, { home, service });
  let seen = '';
  const authorizeUrl = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      seen += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/oauth\?\S+)/.exec(seen);
      if (m && seen.includes('Waiting')) resolve(m[1]!);
    });
    void done.then((r) => reject(new Error(`connect exited early: ${r.stderr}`)));
  });
  const redirected = await emu.consent(authorizeUrl, { user });
  const page = await fetch(redirected);
  expect(page.status).toBe(200);
  const result = await done;
  outputs.push(result);
  return result;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokentray-cli-'));
  service = uniqueKeychainService();
  const port = await freePort();
  redirectUri = `http://127.0.0.1:${port}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, accessTokenTtlSeconds: 86_400, taskCount: 30 });
});

afterAll(async () => {
  const t = makeTestCore({ keychain: true, service, home });
  await t.cleanup();
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

describe('tokentray CLI against the amoCRM emulator and the real keychain', () => {
  it('sets up the provider with the secret on stdin and never stores it in a file', async () => {
    const r = await cli(amocrmSetArgs(emu, redirectUri), `${emu.clientSecret}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('amoCRM is set up');
    const files = await readAllFiles(home);
    expect(files).toContain(emu.clientId);
    expect(files).not.toContain(emu.clientSecret);
    const providers = JSON.parse((await cli(['providers', '--json'])).stdout) as Array<{
      id: string;
      configured: boolean;
    }>;
    expect(providers.find((p) => p.id === 'amocrm')?.configured).toBe(true);
    expect(providers.find((p) => p.id === 'clickup')?.configured).toBe(false);
  });

  it('connects through the loopback redirect and lists the account as JSON', async () => {
    const r = await connectThroughBrowser('alice', 'work-amo');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Connected');
    const accounts = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(accounts).toHaveLength(1);
    expect(Object.keys(accounts[0]!).sort()).toEqual([
      'expiresAt',
      'id',
      'label',
      'lastRefreshAt',
      'provider',
      'scopes',
      'status',
      'workspaces',
    ]);
    expect(accounts[0]).toMatchObject({ provider: 'amocrm', label: 'work-amo', status: 'ok' });
    expect(typeof accounts[0]!['expiresAt']).toBe('string');
    expect(new Date(accounts[0]!['expiresAt'] as string).toISOString()).toBe(accounts[0]!['expiresAt']);
  });

  it('prints a working token alone on stdout, by label', async () => {
    const r = await cli(['token', 'work-amo']);
    expect(r.code).toBe(0);
    const token = (await runCli(['token', 'work-amo'], { home, service })).stdout;
    expect(token.endsWith('\n')).toBe(true);
    expect(token.trim().split('\n')).toHaveLength(1);
    const res = await fetch(`${emu.url}/api/v4/account`, {
      headers: { authorization: `Bearer ${token.trim()}`, 'user-agent': 'test' },
    });
    expect(res.status).toBe(200);
  });

  it('20 concurrent `tokentray token` processes on an expired token make exactly one refresh', async () => {
    const t = makeTestCore({ keychain: true, service, home });
    const [account] = await t.core.listAccounts();
    const { meta, secret } = await t.core.repo.load(account!.id);
    await t.core.repo.saveTokens(
      { ...meta },
      { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 60_000 } },
    );
    await t.core.close();
    const refreshesBefore = emu.stats.refreshGrants;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => runCli(['token', account!.id], { home, service })),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(results[0]!.stdout.trim()).not.toBe(secret.tokens.accessToken);
    expect(emu.stats.refreshGrants - refreshesBefore).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);
    for (const r of results) outputs.push({ ...r, stdout: '' });
  });

  it('inspects offline without printing the token', async () => {
    const r = await cli(['inspect', 'work-amo', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown> & { jwt: { claims: Record<string, unknown> } };
    expect(info['tokenKind']).toBe('jwt');
    expect(info.jwt.claims['account_id']).toBe(ACCOUNT_ID);
    expect(info['secondsLeft']).toBeGreaterThan(80_000);
    expect(info['hasRefreshToken']).toBe(true);
    const human = await cli(['inspect', 'work-amo']);
    expect(human.stdout).toContain('fingerprint');
    expect(human.stdout).toContain('JWT claims');
  });

  it('connects a second login via the pasted code + host without duplicating the first', async () => {
    const code = emu.issueAuthorizationCode({ user: 'bob' });
    const r = await cli(['connect', 'amocrm', '--code', code, '--host', 'example.amocrm.ru', '--label', 'bob-amo']);
    expect(r.code, r.stderr).toBe(0);
    const again = await cli(['connect', 'amocrm', '--code', code, '--host', 'example.amocrm.ru']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/authorization code/i);
    const accounts = JSON.parse((await cli(['accounts', '--json'])).stdout) as unknown[];
    expect(accounts).toHaveLength(2);
  });

  it('takes the code and the redirected URL on stdin, and warns when a secret is on the command line', async () => {
    const argvCode = emu.issueAuthorizationCode({ user: 'bob' });
    const warned = await cli(['connect', 'amocrm', '--code', argvCode, '--host', 'example.amocrm.ru']);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/warning: --code on the command line can be read by other local users.*--code-stdin/);

    const code = emu.issueAuthorizationCode({ user: 'bob' });
    const piped = await cli(
      ['connect', 'amocrm', '--code-stdin', '--host', 'example.amocrm.ru', '--json'],
      `${code}\n`,
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toMatch(/warning/);
    expect(JSON.parse(piped.stdout)).toMatchObject({ label: 'bob-amo', provider: 'amocrm' });

    // A redirected URL from stdin reaches the same check as one from argv (here: no sign-in waits for it).
    const stray = 'http://127.0.0.1:1/callback/amocrm?code=abc&state=nothing-pending&referer=example.amocrm.ru';
    const fromArgv = await cli(['connect', 'amocrm', '--redirected-url', stray]);
    const fromStdin = await cli(['connect', 'amocrm', '--redirected-url-stdin'], stray);
    expect(fromArgv.stderr).toMatch(/warning: --redirected-url on the command line/);
    expect(fromStdin.stderr).not.toMatch(/warning/);
    expect(fromStdin.code).toBe(fromArgv.code);
    expect(fromStdin.stderr.trim()).toBe(fromArgv.stderr.split('\n').slice(1).join('\n').trim());

    const both = await cli(['connect', 'amocrm', '--code', code, '--code-stdin']);
    expect(both.code).toBe(2);
  });

  it('maps errors to the documented exit codes with one clear sentence', async () => {
    const usage = await cli(['token']);
    expect(usage.code).toBe(2);
    const bogus = await cli(['frobnicate']);
    expect(bogus.code).toBe(2);
    const missing = await cli(['token', 'nobody', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No account is called "nobody"/);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });

    emu.setOutage(true);
    const down = await cli(['refresh', 'bob-amo']);
    emu.setOutage(false);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/try again later/);
    const stillThere = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{
      label: string;
      status: string;
    }>;
    expect(stillThere.find((a) => a.label === 'bob-amo')?.status).toBe('ok');

    const noKeychain = await cli(['token', 'work-amo'], undefined, {
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
    });
    expect(noKeychain.code).toBe(5);
    expect(noKeychain.stderr).toMatch(/Secret Service/);
    expect(noKeychain.stdout).toBe('');

    emu.revokeAll();
    const revoked = await cli(['refresh', 'bob-amo']);
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toMatch(/reconnect/i);
    const afterRevoke = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{
      label: string;
      status: string;
    }>;
    expect(afterRevoke.find((a) => a.label === 'bob-amo')?.status).toBe('reconnect');
    const tokenAfter = await cli(['token', 'bob-amo']);
    expect(tokenAfter.code).toBe(3);
  });

  it('never printed a refresh token, a client secret or (outside `token`) an access token', async () => {
    // Every token the emulator issued in this file, the ones refreshes rotated out included.
    const secrets: string[] = [emu.clientSecret, ...emu.issuedTokens()];
    const t = makeTestCore({ keychain: true, service, home });
    for (const a of await t.core.listAccounts()) {
      const { secret } = await t.core.repo.load(a.id);
      expect(secrets).toContain(secret.tokens.accessToken);
    }
    await t.core.close();
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const files = await readAllFiles(home);
    for (const s of secrets) {
      expect(printed).not.toContain(s);
      expect(files).not.toContain(s);
    }
  });

  it('disconnects: secrets and metadata are gone', async () => {
    const r = await cli(['disconnect', 'work-amo']);
    expect(r.code).toBe(0);
    const accounts = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{ label: string }>;
    expect(accounts.map((a) => a.label)).toEqual(['bob-amo']);
    const t = makeTestCore({ keychain: true, service, home });
    expect((await t.store.keys()).filter((k) => k.startsWith('account:'))).toHaveLength(1);
    await t.core.close();
  });
});
