import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { makeTestCore, uniqueKeychainService } from '../support/test-core';

/** `tokentray provider add` against a server that publishes discovery only with a trailing slash. */
let server: Server;
let issuer: string;
let home: string;
let service: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokentray-add-'));
  service = uniqueKeychainService();
  server = createServer((req, res) => {
    if (req.url === '/o/.well-known/openid-configuration') {
      res.writeHead(301, { location: '/o/.well-known/openid-configuration/' }).end();
    } else if (req.url === '/o/.well-known/openid-configuration/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize/`,
          token_endpoint: `${issuer}/token/`,
          response_types_supported: ['code'],
        }),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/o`;
});
afterAll(async () => {
  await makeTestCore({ keychain: true, service, home }).cleanup();
  await new Promise((r) => server.close(r));
  rmSync(home, { recursive: true, force: true });
});

describe('tokentray provider add', () => {
  it('takes --redirect-uri and keeps it for sign-ins', async () => {
    const redirect = 'http://127.0.0.1:8765/callback/django';
    const added = await runCli(
      ['provider', 'add', 'django', '--issuer', issuer, '--client-id', 'tt', '--redirect-uri', redirect],
      { home, service },
    );
    expect(added.stderr).toContain(`Sign-ins will come back to ${redirect}`);
    expect(added.code).toBe(0);
    const listed = JSON.parse((await runCli(['providers', '--json'], { home, service })).stdout) as Array<{
      id: string;
      redirectUri: string | null;
    }>;
    expect(listed.find((p) => p.id === 'django')?.redirectUri).toBe(redirect);
  });

  it('refuses a redirect URI that is not a URL, with usage exit code 2', async () => {
    const bad = await runCli(
      ['provider', 'add', 'typo', '--issuer', issuer, '--client-id', 'tt', '--redirect-uri', 'localhost:8765'],
      { home, service },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/redirect URI/i);
  });
});
