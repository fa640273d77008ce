// The shared store against a real PostgreSQL and real `tokentray` processes: three simulated
// machines (their own TOKENTRAY_HOME and keychain service, one team key file) sharing one
// amoCRM account whose refresh tokens are single-use (the emulator counts every reuse).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokentrayCore } from '../../electron/core/create-core';
import { SharedStore } from '../../electron/core/store/shared-store';
import { loadOrCreateKeyFile } from '../../electron/core/store/team-key';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { fingerprintOf } from '../../electron/core/vault/vault';
import { MemorySecretStore } from '../fakes/memory-store';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, startCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../support/postgres';
import { readAllFiles, uniqueKeychainService } from '../support/test-core';

interface Machine {
  name: string;
  home: string;
  service: string;
}

const root = mkdtempSync(join(tmpdir(), 'tokentray-shared-'));
const keyFile = join(root, 'team.key');
let db: TestPostgres;
let emu: EmulatorHandle;
let redirectUri: string;
let accountId: string;
const machines: Machine[] = [];

function machine(name: string): Machine {
  const m = { name, home: join(root, name), service: uniqueKeychainService() };
  machines.push(m);
  return m;
}

const cli = (m: Machine, args: string[], extra: Record<string, string> = {}, stdin?: string): Promise<CliResult> =>
  runCli(args, { home: m.home, service: m.service, extra }, stdin);

function start(
  m: Machine,
  args: string[],
  extra: Record<string, string> = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  return startCli(args, { home: m.home, service: m.service, extra });
}

async function ok(r: Promise<CliResult>): Promise<CliResult> {
  const result = await r;
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** Sets up the provider on a machine (each machine configures it; the client secret is the same). */
async function setProvider(m: Machine): Promise<void> {
  await ok(cli(m, amocrmSetArgs(emu, redirectUri), {}, emu.clientSecret));
}

async function connect(m: Machine, user: string): Promise<string> {
  const r = await ok(
    cli(m, [
      'connect',
      'amocrm',
      '--code',
      emu.issueAuthorizationCode({ user }),
      '--host',
      'example.amocrm.ru',
      '--json',
    ]),
  );
  return (JSON.parse(r.stdout) as { id: string }).id;
}

/** Expires the account's token in the shared store, as after a night asleep: the next `token` must refresh. */
async function expireShared(m: Machine, id = accountId): Promise<string> {
  const core = await createTokentrayCore({ home: m.home, keychainService: m.service });
  try {
    const { meta, secret } = await core.repo.load(id);
    await core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 1_000 } });
    return secret.tokens.accessToken;
  } finally {
    await core.close();
  }
}

async function works(token: string): Promise<boolean> {
  const res = await fetch(`${emu.url}/api/v4/account`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200;
}

async function dumpTables(): Promise<string> {
  const client = new pg.Client({ connectionString: db.adminUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tokentray'",
    );
    expect(tables.rows.map((t) => t.table_name).sort()).toEqual(['items', 'key_check', 'schema_migrations']);
    const parts: string[] = [];
    for (const t of tables.rows) {
      const rows = await client.query(`SELECT t::text AS row FROM tokentray.${t.table_name} t`);
      for (const r of rows.rows as Array<{ row: string }>) parts.push(r.row);
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const available = postgresAvailable();

describe.skipIf(!available)('the shared store on PostgreSQL (real processes, three machines)', () => {
  const a = machine('a');
  const b = machine('b');
  const c = machine('c');
  /** Set up like the others; the outage test expires the account from here. */
  const e = machine('e');

  beforeAll(async () => {
    db = await startTestPostgres();
    redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
    emu = await startAmocrmEmulator({ redirectUri, taskCount: 1 });
    await setProvider(a);
    accountId = await connect(a, 'alice');
    const use = await ok(cli(a, ['store', 'use', db.url, '--key-file', keyFile]));
    expect(use.stderr).toMatch(/Created a new team key/);
    expect(use.stderr).toMatch(/run `tokentray store push`/);
    const pushed = await ok(cli(a, ['store', 'push']));
    expect(pushed.stderr).toMatch(/Moved 1 account into the shared store/);
    // Moved, not copied: the only refresh token now lives in the shared store.
    expect(await new KeytarSecretStore(a.service).get(`account:${accountId}`)).toBeNull();
    for (const m of [b, c, e]) {
      await ok(cli(m, ['store', 'use', db.url, '--key-file', keyFile]));
      await setProvider(m);
    }
  }, 180_000);

  afterAll(async () => {
    emu?.setTokenHooks({});
    for (const m of machines) {
      const store = new KeytarSecretStore(m.service);
      for (const key of await store.keys().catch(() => [])) await store.delete(key).catch(() => undefined);
    }
    await emu?.close();
    db?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it('every machine sees the account, with its label, and gets the same token', async () => {
    const tokens: string[] = [];
    for (const m of [a, b, c]) {
      const list = JSON.parse((await ok(cli(m, ['accounts', '--json']))).stdout) as Array<{
        id: string;
        label: string;
      }>;
      expect(list.map((x) => x.id)).toContain(accountId);
      tokens.push((await ok(cli(m, ['token', accountId]))).stdout.trim());
    }
    expect(new Set(tokens).size).toBe(1);
    expect(await works(tokens[0]!)).toBe(true);
    // `--header` for `curl -H @-` answers from the shared store too, as the header, not the bare token.
    expect((await ok(cli(b, ['token', accountId, '--header']))).stdout).toBe(`Authorization: Bearer ${tokens[0]}\n`);
    const status = JSON.parse((await ok(cli(b, ['store', 'status', '--json']))).stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ kind: 'postgres', reachable: true, schemaVersion: 1, accounts: 1 });
  }, 60_000);

  it('20 concurrent `tokentray token` on three machines with an expired token: 1 refresh, 0 reuses, one new token for all', async () => {
    const old = await expireShared(a);
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;
    const runs = Array.from({ length: 20 }, (_, i) => start([a, b, c][i % 3]!, ['token', accountId]).done);
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const tokens = new Set(results.map((r) => r.stdout.trim()));
    expect(tokens.size).toBe(1);
    const [token] = [...tokens];
    expect(token).not.toBe(old);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    expect(await works(token!)).toBe(true);
  }, 180_000);

  it('the machine holding the row lock is frozen mid-refresh: others wait or exit 4 spending nothing, then all get the one new token', async () => {
    const old = await expireShared(a);
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;
    let frozen!: () => void;
    const isFrozen = new Promise<void>((r) => (frozen = r));
    const holder = start(a, ['token', accountId]);
    // The provider has spent the refresh token and its answer is on the way: freeze the holder there.
    emu.setTokenHooks({
      after: () => {
        holder.child.kill('SIGSTOP');
        frozen();
      },
    });
    await isFrozen;
    emu.setTokenHooks({});
    const patient = start(b, ['token', accountId]);
    const impatient = await start(c, ['token', accountId, '--json'], { TOKENTRAY_LOCK_WAIT_MS: '1500' }).done;
    expect(impatient.code).toBe(4);
    expect(impatient.stderr).toMatch(new RegExp(`Another Tokentray machine is refreshing ${accountId}; try again`));
    expect(JSON.parse(impatient.stdout)).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    await sleep(3_000);
    expect(patient.child.exitCode, 'machine b must still be waiting for the frozen holder').toBeNull();
    holder.child.kill('SIGCONT');
    const [rh, rp] = await Promise.all([holder.done, patient.done]);
    expect(rh.code, rh.stderr).toBe(0);
    expect(rp.code, rp.stderr).toBe(0);
    const token = rh.stdout.trim();
    expect(token).not.toBe(old);
    expect(rp.stdout.trim()).toBe(token);
    expect((await ok(cli(c, ['token', accountId]))).stdout.trim()).toBe(token);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
  }, 120_000);

  it('PostgreSQL stopped mid-refresh and restarted: a clear exit 4 meanwhile, cached tokens still served, no account lost', async () => {
    // A second account with a valid token, read once on machine c so its access token is cached there.
    const bob = await connect(a, 'bob');
    const bobToken = (await ok(cli(c, ['token', bob]))).stdout.trim();
    // Expired from machine e, so e's own offline copy is the expired one: nothing usable cached there.
    const old = await expireShared(e);
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;
    // The tray's view on machine c: what it is told about the store's reachability.
    const tray = await createTokentrayCore({ home: c.home, keychainService: c.service });
    const reports: boolean[] = [];
    const reported = (value: boolean): Promise<void> =>
      new Promise((resolve) => {
        const poll = setInterval(() => {
          if (reports.includes(value)) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      });
    const stopWatch = tray.watchSharedStore((up) => reports.push(up));
    await reported(true);
    let stopped!: () => void;
    const isStopped = new Promise<void>((r) => (stopped = r));
    const holder = start(a, ['token', accountId]);
    emu.setTokenHooks({
      after: () => {
        db.stop();
        stopped();
      },
    });
    await isStopped;
    emu.setTokenHooks({});
    try {
      const waiting = await cli(e, ['token', accountId]);
      expect(waiting.code).toBe(4);
      expect(waiting.stderr).toMatch(/Shared store unreachable/i);
      const cached = await cli(c, ['token', bob]);
      expect(cached.code, cached.stderr).toBe(0);
      expect(cached.stdout.trim()).toBe(bobToken);
      const status = JSON.parse((await cli(c, ['store', 'status', '--json'])).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ reachable: false });
      await reported(false);
    } finally {
      db.start();
    }
    reports.length = 0;
    await reported(true);
    stopWatch();
    await tray.close();
    const rh = await holder.done;
    expect(rh.code, rh.stderr).toBe(0);
    const token = rh.stdout.trim();
    expect(token).not.toBe(old);
    for (const m of [b, e]) expect((await ok(cli(m, ['token', accountId]))).stdout.trim()).toBe(token);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    expect(await works(token)).toBe(true);
  }, 180_000);

  it('a wrong team key is refused with a clear error and nothing is overwritten', async () => {
    const before = await dumpTables();
    const intruder = machine('intruder');
    const r = await cli(intruder, ['store', 'use', db.url, '--key-file', join(root, 'other.key')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/team key does not open the shared store/);
    expect(existsSync(join(intruder.home, 'store.json'))).toBe(false);
    expect(await dumpTables()).toBe(before);
  }, 60_000);

  it('an account connected on one machine of the store shows up on the others after `store status`', async () => {
    // Bob was connected on machine a while it already used the store (the outage test above); b never looked.
    const listed = async (m: Machine): Promise<Array<{ id: string; provider: string }>> =>
      JSON.parse((await ok(cli(m, ['accounts', '--json']))).stdout) as Array<{ id: string; provider: string }>;
    const bob = (await listed(a)).find((x) => x.id !== accountId)!.id;
    expect((await listed(b)).map((x) => x.id)).not.toContain(bob);
    await ok(cli(b, ['store', 'status']));
    expect(await listed(b)).toContainEqual(expect.objectContaining({ id: bob, provider: 'amocrm' }));
    expect((await ok(cli(b, ['token', bob]))).stdout.trim()).not.toBe('');
  }, 60_000);

  it('a headless server without any keychain runs from the key file alone', async () => {
    const server = machine('server');
    // No D-Bus session: no Secret Service, as on a server; the key comes from TOKENTRAY_STORE_KEY_FILE.
    const headless = {
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/tokentray-test-bus',
      TOKENTRAY_STORE_KEY_FILE: keyFile,
    };
    const use = await ok(cli(server, ['store', 'use', db.url], headless));
    expect(use.stderr).toMatch(/keychain is not available here/);
    const token = await ok(cli(server, ['token', accountId], headless));
    expect(await works(token.stdout.trim())).toBe(true);
    // No `provider set` here: the provider settings came with the store (pushed by machine a).
    const reuse = emu.stats.refreshTokenReuse;
    await ok(cli(server, ['refresh', accountId], headless));
    const fresh = (await ok(cli(server, ['token', accountId], headless))).stdout.trim();
    expect(fresh).not.toBe(token.stdout.trim());
    expect(await works(fresh)).toBe(true);
    expect((await ok(cli(a, ['token', accountId]))).stdout.trim()).toBe(fresh);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    const plain = await cli(server, ['token', accountId], {
      DBUS_SESSION_BUS_ADDRESS: headless.DBUS_SESSION_BUS_ADDRESS,
    });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/no team key; set TOKENTRAY_STORE_KEY_FILE/);
  }, 60_000);

  it('a role without its schema gets a clear "database refused" error naming the grants, not a crash', async () => {
    const m = machine('no-grants');
    const elsewhere = db.url.replace('/tokentray?', '/postgres?');
    const r = await cli(m, ['store', 'use', elsewhere, '--key-file', keyFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/database refused: permission denied .*SQLSTATE 42501.*role's grants/);
    expect(existsSync(join(m.home, 'store.json'))).toBe(false);
  }, 60_000);

  it('no row in any table holds a token, a client secret or an account id in plaintext; no file either', async () => {
    const dump = await dumpTables();
    const files = (await Promise.all(machines.map((m) => readAllFiles(m.home).catch(() => '')))).join('\n');
    for (const issued of emu.issuedTokens()) expect(files).not.toContain(issued);
    expect(files).not.toContain(emu.clientSecret);
    const planted = [...emu.issuedTokens(), emu.clientSecret, accountId, 'amocrm', 'alice'];
    expect(emu.issuedTokens().length).toBeGreaterThan(3);
    for (const secret of planted) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(Buffer.from(secret).toString('hex'));
    }
  }, 60_000);

  it('the tray-side hook sees a refresh another machine made, through NOTIFY', async () => {
    const core = await createTokentrayCore({ home: b.home, keychainService: b.service });
    try {
      let reachable!: () => void;
      const listening = new Promise<void>((r) => (reachable = r));
      const stop = core.watchSharedStore((up) => {
        if (up) reachable();
      });
      await listening;
      // b's view starts current; from here only notifications can change it.
      await core.repo.load(accountId);
      let latest = '';
      core.onAccountsChanged((accounts) => {
        latest = accounts.find((x) => x.id === accountId)?.fingerprint ?? latest;
      });
      await expireShared(a);
      const token = (await ok(cli(a, ['token', accountId]))).stdout.trim();
      const deadline = Date.now() + 10_000;
      while (latest !== fingerprintOf(token) && Date.now() < deadline) await sleep(50);
      stop();
      expect(latest, 'the refresh made on machine a never reached machine b').toBe(fingerprintOf(token));
    } finally {
      await core.close();
    }
  }, 60_000);

  it('`store push` then `store use local` round-trips every account', async () => {
    const d = machine('d');
    await setProvider(d);
    const carol = await connect(d, 'carol');
    const carolToken = (await ok(cli(d, ['token', carol]))).stdout.trim();
    await ok(cli(d, ['store', 'use', db.url, '--key-file', keyFile]));
    await ok(cli(d, ['store', 'push']));
    expect(await new KeytarSecretStore(d.service).get(`account:${carol}`)).toBeNull();
    expect((await ok(cli(b, ['token', carol]))).stdout.trim()).toBe(carolToken);
    const back = await ok(cli(d, ['store', 'use', 'local']));
    expect(back.stderr).toMatch(/Copied 3 accounts into this machine's keychain/);
    const local = new KeytarSecretStore(d.service);
    const keys = (await local.keys()).filter((k) => k.startsWith('account:')).sort();
    expect(keys).toHaveLength(3);
    expect(keys).toContain(`account:${carol}`);
    expect(keys).toContain(`account:${accountId}`);
    expect((await ok(cli(d, ['store', 'status']))).stdout).toMatch(/local/);
    expect((await ok(cli(d, ['token', carol]))).stdout.trim()).toBe(carolToken);
  }, 120_000);
  it('a write outside the lock is compare-and-set: a stale writer is refused and the newer value stays', async () => {
    const key = (await loadOrCreateKeyFile(keyFile)).key;
    const one = new SharedStore({ url: db.url, key, cache: new MemorySecretStore() });
    const two = new SharedStore({ url: db.url, key, cache: new MemorySecretStore() });
    try {
      await one.set('client-secret:cas-check', 'first');
      expect(await two.get('client-secret:cas-check')).toBe('first');
      await one.set('client-secret:cas-check', 'second');
      await expect(two.set('client-secret:cas-check', 'stale')).rejects.toThrow(
        /Another machine changed client-secret:cas-check in the shared store at the same moment; nothing was overwritten/,
      );
      expect(await two.get('client-secret:cas-check')).toBe('second');
      await one.delete('client-secret:cas-check');
    } finally {
      await one.close();
      await two.close();
    }
  }, 60_000);

  it('`store rotate-key` re-encrypts everything: the old key is refused, the new one serves the same token', async () => {
    const before = (await ok(cli(b, ['token', accountId]))).stdout.trim();
    const rowsBefore = await dumpTables();
    const newKey = join(root, 'team-2.key');
    const rotated = await ok(cli(a, ['store', 'rotate-key', '--new-key-file', newKey]));
    expect(rotated.stderr).toMatch(/Re-encrypted \d+ items under the new team key/);
    const after = await dumpTables();
    expect(after).not.toBe(rowsBefore);
    expect((await ok(cli(a, ['token', accountId]))).stdout.trim()).toBe(before);
    // Machine b still has the old key (in its keychain): a clear error, nothing spent or written.
    const stale = await cli(b, ['token', accountId]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/team key does not open the shared store/);
    expect(stale.stdout).toBe('');
    expect(await dumpTables()).toBe(after);
    await ok(cli(b, ['store', 'use', db.url, '--key-file', newKey]));
    expect((await ok(cli(b, ['token', accountId]))).stdout.trim()).toBe(before);
  }, 120_000);
});
