import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePages, nextPageUrl } from '../../electron/cli/commands/api-paging';
import { createHttpClient } from '../../electron/core/http/client';
import { amocrm } from '../../electron/core/providers/amocrm';
import { basecamp } from '../../electron/core/providers/basecamp';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { startBasecampEmulator, type BasecampEmulatorHandle } from '../fakes/basecamp-emulator';
import { runCli, type CliResult } from '../support/cli';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';

const AMO_REDIRECT = 'http://127.0.0.1:1/callback/amocrm';
const BC_REDIRECT = 'http://127.0.0.1:2/callback';

let amo: EmulatorHandle;
let slowAmo: EmulatorHandle;
let bc: BasecampEmulatorHandle;
let t: TestCore;
let slow: TestCore;
let stranger: Server;
let strangerHits = 0;
const outputs: CliResult[] = [];
const rotatedOut: string[] = [];

async function api(core: TestCore, args: string[], stdin?: string): Promise<CliResult> {
  const r = await runCli(['api', ...args], { home: core.home, service: core.service }, stdin);
  outputs.push(r);
  return r;
}

async function amoCore(emu: EmulatorHandle): Promise<TestCore> {
  // A client that really waits out Retry-After, as the product's does.
  const core = makeTestCore({ keychain: true, providers: [amocrm, basecamp], http: createHttpClient() });
  await core.core.setProvider('amocrm', {
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    redirectUri: AMO_REDIRECT,
    authorizeUrl: `${emu.url}/oauth`,
    apiUrl: emu.url,
  });
  await core.core.completeConnectWithCode('amocrm', emu.issueAuthorizationCode({ user: 'alice' }), {
    host: emu.host,
    label: 'work-amo',
  });
  return core;
}

beforeAll(async () => {
  amo = await startAmocrmEmulator({ redirectUri: AMO_REDIRECT, taskCount: 600, requestsPerSecond: 10_000 });
  // amoCRM allows 7 requests a second per integration; this one allows 1, so a burst meets 429 + Retry-After.
  slowAmo = await startAmocrmEmulator({
    redirectUri: AMO_REDIRECT,
    taskCount: 10,
    requestsPerSecond: 1,
    blockAfterRateLimited: 100,
  });
  bc = await startBasecampEmulator({
    redirectUri: BC_REDIRECT,
    pageSize: 4,
    projectsPerAccount: 10,
    rateLimit: { limit: 10_000, windowMs: 10_000 },
  });
  t = await amoCore(amo);
  slow = await amoCore(slowAmo);
  await t.core.setProvider('basecamp', {
    clientId: bc.clientId,
    clientSecret: bc.clientSecret,
    redirectUri: BC_REDIRECT,
    authorizeUrl: `${bc.url}/authorization/new`,
    tokenUrl: `${bc.url}/authorization/token`,
    apiUrl: bc.url,
  });
  await t.core.completeConnectWithCode('basecamp', bc.issueAuthorizationCode({ user: 'jason' }), { label: 'bc' });
  stranger = createServer((req, res) => {
    strangerHits += 1;
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
  });
  await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await t.cleanup();
  await slow.cleanup();
  await Promise.all([amo.close(), slowAmo.close(), bc.close()]);
  await new Promise((resolve) => stranger.close(resolve));
});

describe('tokentray api', () => {
  it('GETs a path on the account’s own host and prints the JSON body', async () => {
    const r = await api(t, ['work-amo', '/api/v4/account']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'Example Trading', subdomain: amo.host.split('.')[0] });
    // Not a terminal: the body byte for byte as the provider sent it, not re-serialized.
    const token = await runCli(['token', 'work-amo'], { home: t.home, service: t.service });
    const raw = await fetch(`${amo.url}/api/v4/account`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}`, 'user-agent': 'api-test' },
    });
    expect(r.stdout).toBe(await raw.text());
  });

  it('--paginate follows amoCRM’s HAL _links.next to the 204 and merges 600 tasks into one document', async () => {
    const before = amo.stats.pagesServed;
    const r = await api(t, ['work-amo', '/api/v4/tasks?limit=250', '--paginate']);
    expect(r.code, r.stderr).toBe(0);
    const merged = JSON.parse(r.stdout) as {
      _embedded: { tasks: Array<{ id: number }> };
      _links: Record<string, unknown>;
    };
    expect(merged._embedded.tasks).toHaveLength(600);
    expect(new Set(merged._embedded.tasks.map((x) => x.id)).size).toBe(600);
    expect(merged._links['next']).toBeUndefined();
    expect(amo.stats.pagesServed - before).toBe(3);
  });

  it('--paginate follows Basecamp’s Link rel="next" pages and merges the arrays', async () => {
    const r = await api(t, ['bc', '/projects.json', '--paginate']);
    expect(r.code, r.stderr).toBe(0);
    const projects = JSON.parse(r.stdout) as Array<{ id: number }>;
    const one = await api(t, ['bc', '/projects.json', '--include']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^HTTP 200\n/);
    expect(one.stdout).toMatch(/\nlink: <[^>]+page=2>; rel="next"\n/);
    const total = Number(/\nx-total-count: (\d+)\n/.exec(one.stdout)![1]);
    expect(total).toBeGreaterThan(8);
    expect(projects).toHaveLength(total);
    expect(new Set(projects.map((p) => p.id)).size).toBe(total);
    expect(JSON.parse(one.stdout.slice(one.stdout.indexOf('\n\n') + 2))).toHaveLength(4);
  });

  it('POSTs a body from stdin and PATCHes typed fields as JSON', async () => {
    const created = await api(
      t,
      ['work-amo', '/api/v4/tasks', '--input', '-'],
      JSON.stringify([{ text: 'Call back', complete_till: 1_900_000_000 }]),
    );
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { _embedded: { tasks: Array<{ id: number }> } })._embedded.tasks[0]!.id;
    expect(amo.written.get(id)).toMatchObject({ text: 'Call back', complete_till: 1_900_000_000 });
    const patched = await api(t, [
      'work-amo',
      `/api/v4/tasks/${id}`,
      '-X',
      'PATCH',
      '-f',
      'text=Called',
      '-F',
      'is_completed=true',
      '-F',
      'duration=900',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    expect(amo.written.get(id)).toMatchObject({ text: 'Called', is_completed: true, duration: 900 });
  });

  it('an HTTP error exits 1 with the body on stdout and one sentence on stderr', async () => {
    const r = await api(t, ['work-amo', '/api/v4/nothing-here']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'Not Found', status: 404 });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/answered 404 to GET \/api\/v4\/nothing-here/);
  });

  it('refuses a full URL on a foreign host before sending anything', async () => {
    const foreign = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}/api/v4/account`;
    for (const url of [foreign, 'https://evil.example/api/v4/leads', `https://${amo.host}.evil.example/api/v4/leads`]) {
      const r = await api(t, ['work-amo', url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not amoCRM's API for "work-amo".*sends the token only there/);
      expect(r.stdout).toBe('');
    }
    expect(strangerHits).toBe(0);
    const same = await api(t, ['work-amo', `${amo.url}/api/v4/account`]);
    expect(same.code, same.stderr).toBe(0);
    const header = await api(t, ['work-amo', '/api/v4/account', '-H', 'Authorization: Bearer mine']);
    expect(header.code).toBe(2);
  });

  it('waits out a 429 per Retry-After and then answers', async () => {
    const results = await Promise.all(Array.from({ length: 3 }, () => api(slow, ['work-amo', '/api/v4/account'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(slowAmo.stats.rateLimited).toBeGreaterThan(0);
    expect(results.some((r) => /asks to slow down; waiting \d+ s/.test(r.stderr))).toBe(true);
  }, 60_000);

  it('on a 401 for a token it believed valid, refreshes once and retries', async () => {
    // The rotated-out pair must not surface anywhere either.
    const { secret } = await t.core.repo.load((await t.core.listAccounts()).find((a) => a.label === 'work-amo')!.id);
    rotatedOut.push(secret.tokens.accessToken, secret.tokens.refreshToken!);
    amo.expireAccessTokens();
    const before = amo.stats.refreshGrants;
    const r = await api(t, ['work-amo', '/api/v4/account']);
    expect(r.code, r.stderr).toBe(0);
    expect(amo.stats.refreshGrants - before).toBe(1);
    expect(amo.stats.refreshTokenReuse).toBe(0);
  });

  it('pages by the providers’ rules (unit)', () => {
    const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, body, headers });
    expect(
      nextPageUrl(res(200, { last_page: false, tasks: [] }), 'https://api.clickup.com/api/v2/team/1/task?page=2'),
    ).toBe('https://api.clickup.com/api/v2/team/1/task?page=3');
    expect(nextPageUrl(res(200, { last_page: true, tasks: [] }), 'https://x.test/a')).toBeNull();
    expect(nextPageUrl(res(204, null), 'https://x.test/a')).toBeNull();
    expect(
      mergePages([
        { tasks: [1], last_page: false },
        { tasks: [2], last_page: true },
      ]),
    ).toEqual({ tasks: [1, 2], last_page: true });
  });

  it('never printed a token, a refresh token or a client secret, nor left one in a file', async () => {
    const secrets = [amo.clientSecret, bc.clientSecret, ...rotatedOut];
    expect(rotatedOut).toHaveLength(2);
    for (const core of [t, slow]) {
      for (const a of await core.core.listAccounts()) {
        const { secret } = await core.core.repo.load(a.id);
        secrets.push(secret.tokens.accessToken);
        if (secret.tokens.refreshToken) secrets.push(secret.tokens.refreshToken);
      }
    }
    const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const files = (await readAllFiles(t.home)) + (await readAllFiles(slow.home));
    for (const s of secrets) {
      expect(printed).not.toContain(s);
      expect(files).not.toContain(s);
    }
  });
});
