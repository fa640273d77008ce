// The README's recipes for machines without a keychain, tried as written: the systemd service and
// timer that replace the seed's crontab line (file store, key through LoadCredentialEncrypted=),
// `store push` from that file store to PostgreSQL, and the CI job that takes a token from the
// shared store through `tokentray exec`. Lines are taken from README.md itself (so the README
// cannot drift from what runs); paths are mapped into a temporary folder, the PHP script and the
// CI's report script are stand-ins that call the amoCRM emulator's API with $AMO_TOKEN.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorReportSchema, type DoctorReport } from '../../electron/core/doctor/doctor-report';
import { FileSecretStore } from '../../electron/core/store/file-store';
import { readKeyFile } from '../../electron/core/store/team-key';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { CLI, amocrmSetArgs, spawnCaptured, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { NO_DBUS } from '../support/no-dbus';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../support/postgres';
import { makeTestCore, readAllFiles, uniqueKeychainService } from '../support/test-core';

const README = readFileSync('README.md', 'utf8');
const root = mkdtempSync(join(tmpdir(), 'tokentray-recipes-'));
const service = uniqueKeychainService();
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// Where the README's absolute paths land in this test.
const state = join(root, 'var-lib-tokentray');
const credstore = join(root, 'etc-credstore.encrypted');
const plainKey = join(root, 'run', 'tokentray.key');
const sealedKey = join(credstore, 'tokentray.key');
const tokenFile = join(root, 'tokens', 'amo-token.json');
const bin = join(root, 'bin');
const standIn = join(root, 'stand-in.cjs');
const outputs: CliResult[] = [];

let emu: EmulatorHandle;
let redirectUri: string;

/** A fenced block of README.md whose first line is `marker`. */
function readmeBlock(lang: string, marker: string): string {
  const blocks = [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
  const block = blocks.find((b) => b.startsWith(marker));
  if (block === undefined) throw new Error(`README.md has no \`\`\`${lang} block starting with ${marker}`);
  return block;
}

/** The README must say this line exactly; the test then runs it (mapped). */
function asWritten(line: string): string {
  expect(README, `README.md no longer says: ${line}`).toContain(line);
  return line;
}

/** Runs a shell line as the README gives it, with its paths mapped here; `tokentray` is the built CLI. */
async function sh(line: string, env: Record<string, string>, stdin?: string): Promise<CliResult> {
  const { done } = spawnCaptured(
    'sh',
    ['-c', line],
    {
      home: env['TOKENTRAY_HOME'] ?? state,
      service,
      extra: { ...NO_DBUS, PATH: `${bin}:${process.env['PATH'] ?? ''}`, ...env },
    },
    stdin,
  );
  const r = await done;
  outputs.push(r);
  return r;
}

function map(text: string): string {
  return text
    .replaceAll('/var/lib/tokentray', state)
    .replaceAll('/etc/credstore.encrypted/tokentray.key', sealedKey)
    .replaceAll('/run/tokentray.key', plainKey)
    .replaceAll('/var/www/html/my_apps/tokens/<token file>', tokenFile)
    .replaceAll('subdomain.amocrm.ru', 'example.amocrm.ru');
}

async function doctor(env: Record<string, string>): Promise<{ code: number; report: DoctorReport }> {
  const r = await sh('tokentray doctor --json', env);
  return { code: r.code, report: doctorReportSchema.parse(JSON.parse(r.stdout)) };
}

/** What systemd does for LoadCredentialEncrypted=: the credential unsealed into a private folder. */
function credentialsDirectory(): string {
  const dir = mkdtempSync(join(root, 'credentials-'));
  const target = join(dir, 'tokentray.key');
  if (asRoot) execFileSync('systemd-creds', ['decrypt', '--name=tokentray.key', sealedKey, target], { stdio: 'pipe' });
  else cpSync(sealedKey, target);
  chmodSync(target, 0o400);
  return dir;
}

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 2 });
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(root, 'run'), { recursive: true });
  mkdirSync(join(root, 'tokens'), { recursive: true });
  writeFileSync(join(bin, 'tokentray'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  // The script the service or the CI job runs: it reads the token from its environment, as the README says.
  writeFileSync(
    standIn,
    `fetch(process.env.AMO_API + '/api/v4/account', { headers: { authorization: 'Bearer ' + process.env.AMO_TOKEN } })
       .then((r) => { console.log('amoCRM answered ' + r.status); process.exit(r.status === 200 ? 0 : 1); });\n`,
  );
  // What the seed's get_tokens.php left behind: amoCRM's token response.
  const res = await fetch(`${emu.url}/oauth2/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      grant_type: 'authorization_code',
      code: emu.issueAuthorizationCode({ user: 'alice' }),
      redirect_uri: redirectUri,
    }),
  });
  writeFileSync(tokenFile, await res.text(), { mode: 0o600 });
  writeFileSync(join(root, 'secret.txt'), emu.clientSecret, { mode: 0o600 });
});

afterAll(async () => {
  await emu.close();
  rmSync(root, { recursive: true, force: true });
});

describe('README: the file store on a server, run by a systemd service and timer', () => {
  let serviceEnv: Record<string, string>;
  let execStart: string[];

  it('the set-up as written: a sealed key, the store, the provider and the imported token file', async () => {
    mkdirSync(state, { recursive: true, mode: 0o700 });
    mkdirSync(credstore, { recursive: true, mode: 0o700 });
    expect(
      (await sh(`umask 077; ${map(asWritten('head -c 32 /dev/urandom | base64 > /run/tokentray.key'))}`, {})).code,
    ).toBe(0);
    expect((await readKeyFile(plainKey)).length).toBe(32);
    const seal = asWritten(
      'systemd-creds encrypt --name=tokentray.key /run/tokentray.key /etc/credstore.encrypted/tokentray.key',
    );
    if (asRoot) expect((await sh(map(seal), {})).code).toBe(0);
    else {
      // systemd-creds needs root for the host key; the plain key stands in for the sealed one.
      console.log('not root: systemd-creds encrypt not run; the credential is the plain key');
      cpSync(plainKey, sealedKey);
    }
    const setup = { TOKENTRAY_HOME: state, TOKENTRAY_STORE_KEY_FILE: plainKey };
    asWritten('sudo -u app env TOKENTRAY_HOME=/var/lib/tokentray TOKENTRAY_STORE_KEY_FILE=/run/tokentray.key sh -c');
    const use = await sh(asWritten('tokentray store use file'), setup);
    expect(use.code, use.stderr).toBe(0);
    const set = asWritten(
      'tokentray provider set amocrm --client-id <integration id> --client-secret-stdin --redirect-uri https://example.ru < secret.txt',
    );
    // The emulator stands in for amoCRM: its client id, its redirect URI and its endpoints.
    const setLine = `${amocrmSetArgs(emu, redirectUri)
      .map((a) => `'${a}'`)
      .join(' ')} < '${join(root, 'secret.txt')}'`;
    expect(set).toContain('--client-secret-stdin');
    const provider = await sh(`tokentray ${setLine}`, setup);
    expect(provider.code, provider.stderr).toBe(0);
    rmSync(join(root, 'secret.txt'));
    const imported = await sh(
      map(
        asWritten(
          'tokentray import amocrm /var/www/html/my_apps/tokens/<token file> --host subdomain.amocrm.ru --label work-amo --remove-file',
        ),
      ),
      setup,
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(existsSync(tokenFile)).toBe(false);
    expect((await sh(map(asWritten('shred -u /run/tokentray.key')), {})).code).toBe(0);
    expect(existsSync(plainKey)).toBe(false);
    // Set up without --key-file: the service's credential is where the key comes from.
    expect(JSON.parse(readFileSync(join(state, 'store.json'), 'utf8'))).toEqual({ kind: 'file', keyFile: null });
  });

  it('both unit files pass `systemd-analyze verify`', () => {
    const unitService = readmeBlock('ini', '# /etc/systemd/system/amo-leads.service');
    const unitTimer = readmeBlock('ini', '# /etc/systemd/system/amo-leads.timer');
    const sdroot = join(root, 'sdroot');
    mkdirSync(join(sdroot, 'etc/systemd/system'), { recursive: true });
    mkdirSync(join(sdroot, 'usr/bin'), { recursive: true });
    // verify needs the targets the units name and the binaries they run, inside its --root.
    cpSync('/usr/lib/systemd/system', join(sdroot, 'usr/lib/systemd/system'), { recursive: true });
    for (const stub of ['tokentray', 'php'])
      writeFileSync(join(sdroot, 'usr/bin', stub), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(sdroot, 'etc/systemd/system/amo-leads.service'), unitService);
    writeFileSync(join(sdroot, 'etc/systemd/system/amo-leads.timer'), unitTimer);
    const r = spawnSync(
      'systemd-analyze',
      ['verify', `--root=${sdroot}`, '/etc/systemd/system/amo-leads.service', '/etc/systemd/system/amo-leads.timer'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.error, 'systemd-analyze is missing: install the `systemd` package (.ci/run does)').toBeUndefined();
    // verify exits 0 on an unknown key, so its warnings count too.
    expect(`${r.status} ${r.stderr}`).toBe('0 ');
    expect(unitTimer).toContain('OnCalendar=*-*-* 03:00:00');
    serviceEnv = Object.fromEntries(
      [...unitService.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, map(m[2]!)]),
    );
    execStart = /^ExecStart=(.*)$/m.exec(unitService)![1]!.split(/\s+/);
    expect(unitService).toContain('LoadCredentialEncrypted=tokentray.key:/etc/credstore.encrypted/tokentray.key');
  });

  it('the ExecStart= line, run as systemd would, hands the script a working token; doctor says all is usable', async () => {
    expect(execStart.slice(0, 2)).toEqual(['/usr/bin/tokentray', 'exec']);
    const dashes = execStart.indexOf('--');
    expect(execStart.slice(dashes + 1)).toEqual(['/usr/bin/php', '/var/www/html/my_apps/functions/getContact.php']);
    const line = [...execStart.slice(1, dashes + 1), process.execPath, standIn].map((a) => `'${a}'`).join(' ');
    const env: Record<string, string> = {
      ...serviceEnv,
      CREDENTIALS_DIRECTORY: credentialsDirectory(),
      AMO_API: emu.url,
    };
    expect(env['TOKENTRAY_HOME']).toBe(state);
    const run = await sh(`tokentray ${line}`, env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('amoCRM answered 200');

    // The next night, the token is due: the run refreshes it once, with the single-use refresh token.
    const store = new FileSecretStore(
      state,
      readKeyFile(join(env['CREDENTIALS_DIRECTORY']!, 'tokentray.key')),
      () => 'credential',
    );
    const t = makeTestCore({ store, home: state, providers: BUILTIN_PROVIDERS });
    const [id] = await t.core.metadata.listAccountIds();
    const { meta, secret } = await t.core.repo.load(id!);
    await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 60_000 } });
    await t.core.close();
    const grants = emu.stats.refreshGrants;
    const again = await sh(`tokentray ${line}`, env);
    expect(again.code, again.stderr).toBe(0);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);

    const { code, report } = await doctor(env);
    expect(code, JSON.stringify(report.problems)).toBe(0);
    expect(report.store).toMatchObject({
      kind: 'file',
      answers: true,
      accounts: 1,
      key: { from: 'CREDENTIALS_DIRECTORY' },
    });
    expect(report.keychain).toMatchObject({ state: 'absent', needed: false });
    expect(report.accounts).toEqual([expect.objectContaining({ label: 'work-amo', refreshable: true })]);
  });

  it('doctor with another key or none: exit 5, says why, and changes nothing', async () => {
    const before = readdirSync(join(state, 'secrets')).map((n) => readFileSync(join(state, 'secrets', n), 'utf8'));
    const other = join(root, 'other.key');
    writeFileSync(other, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const wrong = await doctor({ ...serviceEnv, TOKENTRAY_STORE_KEY_FILE: other });
    expect(wrong.code).toBe(5);
    expect(wrong.report.store).toMatchObject({ kind: 'file', answers: false, key: { path: other } });
    expect(wrong.report.store.detail).toContain(`The key in ${other} does not open the file store`);
    const none = await doctor(serviceEnv);
    expect(none.code).toBe(5);
    expect(none.report.store.detail).toMatch(/has no key here/);
    const human = await sh('tokentray doctor', { ...serviceEnv, TOKENTRAY_STORE_KEY_FILE: other });
    expect(human.code).toBe(5);
    expect(human.stdout).toMatch(/DOES NOT ANSWER/);
    expect(readdirSync(join(state, 'secrets')).map((n) => readFileSync(join(state, 'secrets', n), 'utf8'))).toEqual(
      before,
    );
  });
});

const available = postgresAvailable();

describe.skipIf(!available)('README: from the file store to the shared store, and a CI job that uses it', () => {
  let db: TestPostgres;
  let serverEnv: Record<string, string>;
  const teamKey = join(root, 'team.key');

  beforeAll(async () => {
    db = await startTestPostgres();
    serverEnv = { TOKENTRAY_HOME: state, CREDENTIALS_DIRECTORY: credentialsDirectory() };
  }, 120_000);

  afterAll(() => db?.remove());

  it("`store push` moves the file store's accounts to PostgreSQL, where they work", async () => {
    const use = await sh(`tokentray store use '${db.url}' --key-file '${teamKey}'`, serverEnv);
    expect(use.code, use.stderr).toBe(0);
    expect(use.stderr).toMatch(/file store holds 1 account: run `tokentray store push`/);
    const push = await sh('tokentray store push', serverEnv);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/Moved 1 account into the shared store/);
    // One grant, one place: the file store keeps no copy to refresh.
    const files = new FileSecretStore(
      state,
      readKeyFile(join(serverEnv['CREDENTIALS_DIRECTORY']!, 'tokentray.key')),
      () => '',
    );
    expect((await files.keys()).filter((k) => k.startsWith('account:'))).toEqual([]);
    const token = await sh('tokentray token work-amo', serverEnv);
    expect(token.code, token.stderr).toBe(0);
    // The one output that is a token by design: kept out of the leak scan below.
    outputs.pop();
    outputs.push({ ...token, stdout: '' });
    const res = await fetch(`${emu.url}/api/v4/account`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(res.status).toBe(200);
    const grants = emu.stats.refreshGrants;
    expect((await sh('tokentray refresh work-amo', serverEnv)).code).toBe(0);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);

    const { code, report } = await doctor(serverEnv);
    expect(code, JSON.stringify(report.problems)).toBe(0);
    expect(report.store).toMatchObject({ kind: 'postgres', answers: true, accounts: 1 });
    expect(report.store.schemaVersion).toBeGreaterThan(0);
    expect(report.store.where).not.toContain('password');
    expect(report.accounts).toEqual([
      expect.objectContaining({ label: 'work-amo', refreshable: true, secretStored: true }),
    ]);
  });

  it("the CI job's step, as written, gives its script a fresh token from the shared store", async () => {
    const workflow = readmeBlock('yaml', '# .github/workflows/leads-report.yml');
    const script = /run: \|\n((?: {10}.*\n)+)/.exec(workflow)![1]!.replace(/^ {10}/gm, '');
    const secrets: Record<string, string> = {
      TOKENTRAY_TEAM_KEY: readFileSync(teamKey, 'utf8').trim(),
      TOKENTRAY_STORE_URL: db.url,
    };
    const runnerTemp = mkdtempSync(join(root, 'runner-temp-'));
    // The step's env: block, with GitHub's expressions filled in as the runner would.
    const stepEnv = Object.fromEntries(
      [...workflow.matchAll(/^ {10}([A-Z_]+): (.+)$/gm)].map((m) => [
        m[1]!,
        m[2]!.replace(/\$\{\{ (.+?) \}\}/g, (_, expr: string) =>
          expr.startsWith('secrets.')
            ? (secrets[expr.slice('secrets.'.length)] ?? '')
            : expr === 'runner.temp'
              ? runnerTemp
              : `<${expr}>`,
        ),
      ]),
    );
    expect(Object.keys(stepEnv).sort()).toEqual(['STORE_URL', 'TEAM_KEY', 'TOKENTRAY_HOME']);
    const checkout = mkdtempSync(join(root, 'checkout-'));
    mkdirSync(join(checkout, 'scripts'));
    writeFileSync(
      join(checkout, 'scripts', 'leads-report.sh'),
      `#!/bin/sh\nexec "${process.execPath}" "${standIn}"\n`,
      {
        mode: 0o755,
      },
    );
    // GitHub runs a step's script with `bash -e {0}` in the checkout.
    const { done } = spawnCaptured('bash', ['-e', '-c', `cd '${checkout}'\n${script}`], {
      home: stepEnv['TOKENTRAY_HOME']!,
      service,
      extra: {
        ...NO_DBUS,
        ...stepEnv,
        RUNNER_TEMP: runnerTemp,
        AMO_API: emu.url,
        PATH: `${bin}:${process.env['PATH'] ?? ''}`,
      },
    });
    const r = await done;
    outputs.push(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('amoCRM answered 200');
    // The key file lived for the step only.
    expect(existsSync(join(runnerTemp, 'team.key'))).toBe(false);
    expect(emu.stats.refreshTokenReuse).toBe(0);
  });

  it('doctor on the server with the database down: exit 4, "unreachable", and the account kept', async () => {
    db.stop();
    try {
      const { code, report } = await doctor(serverEnv);
      expect(code).toBe(4);
      expect(report.store).toMatchObject({ kind: 'postgres', answers: false });
      expect(report.store.detail).toMatch(/unreachable/i);
      expect(report.accounts.map((a) => a.label)).toEqual(['work-amo']);
    } finally {
      db.start();
    }
    expect((await doctor(serverEnv)).code).toBe(0);
  });
});

describe('no token or client secret anywhere', () => {
  it('in any output of these runs, or any file they left', async () => {
    const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const files = await readAllFiles(root);
    const secrets = [...emu.issuedTokens(), emu.clientSecret];
    expect(emu.issuedTokens().length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets) {
      expect(printed).not.toContain(secret);
      expect(files).not.toContain(secret);
    }
  });
});
