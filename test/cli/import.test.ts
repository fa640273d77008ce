import {
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePythonLiteral, parseTokenFile } from '../../electron/core/connect/token-file';
import { amocrm } from '../../electron/core/providers/amocrm';
import { basecamp } from '../../electron/core/providers/basecamp';
import { clickup } from '../../electron/core/providers/clickup';
import { ticktick } from '../../electron/core/providers/ticktick';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { startBasecampEmulator, type BasecampEmulatorHandle } from '../fakes/basecamp-emulator';
import { startClickupEmulator, type ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { startTicktickEmulator, type TicktickEmulatorHandle } from '../fakes/ticktick-emulator';
import { runCli, type CliResult } from '../support/cli';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';

let amo: EmulatorHandle;
let tick: TicktickEmulatorHandle;
let bc: BasecampEmulatorHandle;
let cu: ClickupEmulatorHandle;
let t: TestCore;
let files: string;
const secrets: string[] = [];
const outputs: CliResult[] = [];

const AMO_REDIRECT = 'http://127.0.0.1:1/callback/amocrm';
const TICK_REDIRECT = 'http://127.0.0.1:2/callback/ticktick';
const BC_REDIRECT = 'http://127.0.0.1:3/callback';
const CU_REDIRECT = 'http://127.0.0.1:4/callback/clickup';

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { home: t.home, service: t.service });
  // `token` prints a token by design; everything else is scanned for leaks at the end.
  outputs.push(args[0] === 'token' ? { ...r, stdout: '' } : r);
  return r;
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'user-agent': 'old-script (ops@example.com)', ...headers },
    body: new URLSearchParams(fields),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** What the seed's get_tokens.php cron set-up leaves in tokens.json: amoCRM's raw token response. */
async function amoTokenResponse(user: string) {
  const body = await postJson(`${amo.url}/oauth2/access_token`, {
    client_id: amo.clientId,
    client_secret: amo.clientSecret,
    grant_type: 'authorization_code',
    code: amo.issueAuthorizationCode({ user }),
    redirect_uri: AMO_REDIRECT,
  });
  secrets.push(String(body['access_token']), String(body['refresh_token']));
  return body;
}

function write(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

async function accounts(): Promise<Array<{ label: string; provider: string; expiresAt: string | null }>> {
  return JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{
    label: string;
    provider: string;
    expiresAt: string | null;
  }>;
}

beforeAll(async () => {
  amo = await startAmocrmEmulator({ redirectUri: AMO_REDIRECT, accessTokenTtlSeconds: 86_400, taskCount: 5 });
  tick = await startTicktickEmulator({ redirectUri: TICK_REDIRECT });
  bc = await startBasecampEmulator({ redirectUri: BC_REDIRECT });
  cu = await startClickupEmulator({ redirectUri: CU_REDIRECT });
  t = makeTestCore({ keychain: true, providers: [amocrm, ticktick, basecamp, clickup] });
  secrets.push(amo.clientSecret, tick.clientSecret, bc.clientSecret, cu.clientSecret);
  await t.core.setProvider('amocrm', {
    clientId: amo.clientId,
    clientSecret: amo.clientSecret,
    redirectUri: AMO_REDIRECT,
    authorizeUrl: `${amo.url}/oauth`,
    apiUrl: amo.url,
  });
  await t.core.setProvider('ticktick', {
    clientId: tick.clientId,
    clientSecret: tick.clientSecret,
    redirectUri: TICK_REDIRECT,
    authorizeUrl: tick.authorizeUrl,
    tokenUrl: tick.tokenUrl,
    apiUrl: tick.apiUrl,
  });
  await t.core.setProvider('basecamp', {
    clientId: bc.clientId,
    clientSecret: bc.clientSecret,
    redirectUri: BC_REDIRECT,
    authorizeUrl: `${bc.url}/authorization/new`,
    tokenUrl: `${bc.url}/authorization/token`,
    apiUrl: bc.url,
  });
  await t.core.setProvider('clickup', {
    clientId: cu.clientId,
    clientSecret: cu.clientSecret,
    redirectUri: CU_REDIRECT,
    authorizeUrl: `${cu.url}/api`,
    tokenUrl: `${cu.url}/api/v2/oauth/token`,
    apiUrl: `${cu.url}/api/v2`,
  });
  files = mkdtempSync(join(tmpdir(), 'tokentray-import-'));
});
afterAll(async () => {
  await t.cleanup();
  await Promise.all([amo.close(), tick.close(), bc.close(), cu.close()]);
  rmSync(files, { recursive: true, force: true });
});

describe('tokentray import', () => {
  it("takes the amoCRM cron job's token file, refreshes with it, and tells the user to stop the cron job", async () => {
    const path = write('tokens.json', JSON.stringify(await amoTokenResponse('alice')));
    const r = await cli(['import', 'amocrm', path, '--label', 'work-amo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Imported amoCRM: "work-amo".*expires in 2[34] h.*with a refresh token/);
    expect(r.stderr).toMatch(/Stop the old cron job/);
    expect(r.stderr).toMatch(/still holds the token in plain text/);
    expect(existsSync(path)).toBe(true);
    const before = amo.stats.refreshGrants;
    const refreshed = await cli(['refresh', 'work-amo']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(amo.stats.refreshGrants - before).toBe(1);
    expect(amo.stats.refreshTokenReuse).toBe(0);
  });

  it("takes TickTick's .token-oauth cache, as a Python literal and as JSON", async () => {
    for (const [user, pythonic] of [
      ['carol', true],
      ['dave', false],
    ] as const) {
      const body = await postForm(
        tick.tokenUrl,
        {
          code: tick.issueAuthorizationCode({ user, redirectUri: TICK_REDIRECT }),
          grant_type: 'authorization_code',
          scope: 'tasks:read tasks:write',
          redirect_uri: TICK_REDIRECT,
        },
        { authorization: `Basic ${Buffer.from(`${tick.clientId}:${tick.clientSecret}`).toString('base64')}` },
      );
      secrets.push(String(body['access_token']));
      // ticktick-py's _cache_token: the response plus expire_time and readable_expire_time.
      const expireTime = Math.floor(Date.now() / 1000) + Number(body['expires_in']);
      const cache = {
        ...body,
        expire_time: expireTime,
        readable_expire_time: new Date(expireTime * 1000).toUTCString(),
      };
      const text = pythonic
        ? `{${Object.entries(cache)
            .map(([k, v]) => `'${k}': ${typeof v === 'string' ? `'${v}'` : String(v)}`)
            .join(', ')}}`
        : JSON.stringify(cache);
      const path = write(`.token-oauth-${user}`, text);
      const r = await cli(['import', 'ticktick', path, '--label', `tick-${user}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/without a refresh token/);
      expect(r.stderr).toMatch(/warns before it expires/);
      const listed = (await accounts()).find((a) => a.label === `tick-${user}`);
      expect(Date.parse(listed!.expiresAt!)).toBe(expireTime * 1000);
    }
    const tasks = await cli(['tasks', 'tick-carol', '--json']);
    expect(tasks.code, tasks.stderr).toBe(0);
  });

  it('takes Basecamp and ClickUp token JSON', async () => {
    const bcBody = await postForm(`${bc.url}/authorization/token`, {
      type: 'web_server',
      client_id: bc.clientId,
      client_secret: bc.clientSecret,
      redirect_uri: BC_REDIRECT,
      code: bc.issueAuthorizationCode({ user: 'jason' }),
    });
    secrets.push(String(bcBody['access_token']), String(bcBody['refresh_token']));
    const r1 = await cli([
      'import',
      'basecamp',
      write('basecamp.json', JSON.stringify(bcBody)),
      '--label',
      'bc',
      '--json',
    ]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(JSON.parse(r1.stdout)).toMatchObject({
      provider: 'basecamp',
      label: 'bc',
      hasRefreshToken: true,
      fileRemoved: false,
    });
    const code = cu.issueAuthorizationCode({ user: 'frank' });
    const res = await fetch(
      `${cu.url}/api/v2/oauth/token?client_id=${cu.clientId}&client_secret=${cu.clientSecret}&code=${code}`,
      { method: 'POST' },
    );
    const cuBody = (await res.json()) as Record<string, unknown>;
    secrets.push(String(cuBody['access_token']));
    const r2 = await cli([
      'import',
      'clickup',
      write('clickup.json', JSON.stringify({ token: cuBody })),
      '--label',
      'cu',
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/does not expire, without a refresh token/);
    expect((await cli(['tasks', 'cu', '--json'])).code).toBe(0);
  });

  it('refuses a dead token and stores nothing', async () => {
    const before = await accounts();
    const keysBefore = (await t.store.keys()).length;
    const body = await amoTokenResponse('bob');
    const path = write('dead.json', JSON.stringify(body));
    amo.revokeAll();
    const r = await cli(['import', 'amocrm', path, '--label', 'dead', '--remove-file']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rejected the token in that file.*nothing was stored/);
    expect(await accounts()).toEqual(before);
    expect((await t.store.keys()).length).toBe(keysBefore);
    expect(existsSync(path)).toBe(true);
    const junk = await cli(['import', 'amocrm', write('junk.txt', 'access_token=abc')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/neither JSON nor a Python dict/);
  });

  it('--remove-file overwrites the file, then deletes it, once the keychain holds the token', async () => {
    const body = await amoTokenResponse('carol');
    const text = JSON.stringify(body);
    const path = write('tokens-gina.json', text);
    // A second name for the same bytes shows what the shredder left on disk.
    const witness = join(files, 'witness');
    linkSync(path, witness);
    const r = await cli(['import', 'amocrm', path, '--label', 'gina', '--remove-file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/overwritten and deleted/);
    expect(existsSync(path)).toBe(false);
    const left = readFileSync(witness);
    expect(left.length).toBe(Buffer.byteLength(text));
    expect(left.every((b) => b === 0)).toBe(true);
    const token = await cli(['token', 'gina']);
    expect(token.code).toBe(0);
  });

  it('--remove-file on a symbolic link imports the token but keeps the link and the file it points to, untouched, and exits 1 saying why', async () => {
    const text = JSON.stringify(await amoTokenResponse('carol'));
    const target = write('real-tokens.json', text);
    const link = join(files, 'tokens-link.json');
    symlinkSync(target, link);
    const r = await cli(['import', 'amocrm', link, '--label', 'hana', '--remove-file', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/is a symbolic link, so it was kept and the file it points to was not touched/);
    expect(JSON.parse(r.stdout)).toMatchObject({ label: 'hana', fileRemoved: false });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(text);
    expect((await cli(['token', 'hana'])).code).toBe(0);
  });

  it('--remove-file keeps a file the old cron job rewrote while the import was checking the token, with the new tokens intact', async () => {
    const path = write('tokens-ines.json', JSON.stringify(await amoTokenResponse('carol')));
    // The old job rotates the tokens and writes the new pair in place while Tokentray asks amoCRM who this is.
    const rotated = JSON.stringify(await amoTokenResponse('carol'));
    amo.setApiHook(() => {
      amo.setApiHook(null);
      writeFileSync(path, rotated);
    });
    try {
      const r = await cli(['import', 'amocrm', path, '--label', 'ines', '--remove-file']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /changed after it was read .* so it was kept with what it holds now; stop that program and import the file again/,
      );
      expect(r.stderr).toMatch(/Imported amoCRM: "ines"/);
    } finally {
      amo.setApiHook(null);
    }
    expect(readFileSync(path, 'utf8')).toBe(rotated);
  });

  it('reads the formats exactly', () => {
    expect(parsePythonLiteral("{'a': 'x\\'y', 'n': 12, 'f': 1.5, 'l': [True, None, False]}")).toEqual({
      a: "x'y",
      n: 12,
      f: 1.5,
      l: [true, null, false],
    });
    const written = Date.UTC(2026, 0, 1);
    expect(parseTokenFile('{"access_token":"a","expires_in":3600}', written).expiresAt).toBe(written + 3_600_000);
    expect(
      parseTokenFile(
        '{"accessToken":"a","refreshToken":"r","expires":1900000000,"baseDomain":"acme.amocrm.ru"}',
        written,
      ),
    ).toMatchObject({ refreshToken: 'r', expiresAt: 1_900_000_000_000, host: 'acme.amocrm.ru' });
  });

  it('never printed a token, a refresh token or a client secret, nor left one under the state directory', async () => {
    const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const stateFiles = await readAllFiles(t.home);
    expect(secrets.length).toBeGreaterThan(8);
    for (const s of secrets) {
      expect(printed).not.toContain(s);
      expect(stateFiles).not.toContain(s);
    }
  });
});
