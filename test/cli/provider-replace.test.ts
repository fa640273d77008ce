import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRecordingAuthServer, type RecordingAuthServer } from '../fakes/recording-auth-server';
import { runCli } from '../support/cli';
import { makeTestCore, type TestCore } from '../support/test-core';

/** `tokentray provider add/set … --replace` and the pin, as a user in a terminal meets them. */
let a: RecordingAuthServer;
let b: RecordingAuthServer;
let t: TestCore;
let accountId: string;

beforeEach(async () => {
  a = await startRecordingAuthServer({ subject: 'alice' });
  b = await startRecordingAuthServer({ subject: 'alice' });
  t = makeTestCore({ keychain: true });
  const env = { home: t.home, service: t.service };
  expect((await runCli(['provider', 'add', 'corp', '--issuer', a.url, '--client-id', 'corp-client'], env)).code).toBe(
    0,
  );
  const attempt = await t.core.startConnect('corp');
  await fetch(attempt.authorizeUrl);
  accountId = (await attempt.result).id;
});
afterEach(async () => {
  await t.cleanup();
  await a.close();
  await b.close();
});

describe('replacing a provider that accounts use', () => {
  it('is refused without --replace (exit 2); with it, its accounts must reconnect (exit 3)', async () => {
    const env = { home: t.home, service: t.service };
    const refused = await runCli(['provider', 'add', 'corp', '--issuer', b.url, '--client-id', 'x'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/used by 1 account.*--replace/);
    expect(b.requests).toEqual([]);
    const moved = await runCli(
      ['provider', 'set', 'corp', '--client-id', 'corp-client', '--token-url', `${b.url}/token`],
      env,
    );
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/--replace/);

    const replaced = await runCli(['provider', 'add', 'corp', '--issuer', b.url, '--client-id', 'x', '--replace'], env);
    expect(replaced.code).toBe(0);
    const listed = JSON.parse((await runCli(['accounts', '--json'], env)).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(listed).toMatchObject([{ id: accountId, status: 'reconnect' }]);
    const api = await runCli(['api', accountId, '/me'], env);
    expect(api.code).toBe(3);
    expect(api.stderr).toMatch(/connected again.*were replaced.*tokentray connect corp/);
    // B answered discovery, nothing else: no token went there.
    expect(b.requests.every((r) => r.url.startsWith('/.well-known/'))).toBe(true);
  });

  it('refuses `tokentray api` when the provider file changed behind its back, before sending anything', async () => {
    const env = { home: t.home, service: t.service };
    const config = await t.core.metadata.readProvider('corp');
    await t.core.metadata.writeProvider({ ...config!, generic: { ...config!.generic!, issuer: b.url } });
    const api = await runCli(['api', accountId, '/me'], env);
    expect(api.code).toBe(3);
    expect(api.stderr).toMatch(/issuer and API base of corp changed since .* was connected.*Reconnect the account/);
    expect(b.requests).toEqual([]);
    expect(a.requests.filter((r) => r.url === '/me')).toEqual([]);
  });
});
