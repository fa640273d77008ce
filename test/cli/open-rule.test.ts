import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { makeTestCore, uniqueKeychainService } from '../support/test-core';

/**
 * Issue 20, Medium 1: one rule for every endpoint and every URL handed to the OS opener
 * (https, or http on loopback). A hostile discovery document is refused at `provider add`,
 * and a provider file that names a `file:` authorize URL is never handed to xdg-open.
 */
let server: Server;
let base: string;
let home: string;
let service: string;
let bin: string;
const opened = (): string => join(bin, 'opened.txt');

/** A discovery document per issuer path; `overrides` replace the well-behaved endpoints. */
const documents: Record<string, Record<string, string>> = {
  '/good': {},
  '/msdt': { authorization_endpoint: 'ms-msdt:/id PCWDiagnostic /skip force' },
  '/plain': { token_endpoint: 'http://tokens.example.com/token' },
  '/userinfo': { userinfo_endpoint: 'javascript:alert(1)' },
};

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokentray-open-'));
  bin = mkdtempSync(join(tmpdir(), 'tokentray-open-bin-'));
  service = uniqueKeychainService();
  // A stand-in for xdg-open that records what it was asked to open.
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${opened()}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/\/\.well-known\/openid-configuration$/, '');
    const overrides = documents[path];
    if (overrides === undefined || !(req.url ?? '').endsWith('/.well-known/openid-configuration')) {
      res.writeHead(404).end();
      return;
    }
    const issuer = `${base}${path}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
        ...overrides,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await makeTestCore({ keychain: true, service, home }).cleanup();
  await new Promise((r) => server.close(r));
  rmSync(home, { recursive: true, force: true });
  rmSync(bin, { recursive: true, force: true });
});

const env = (): { home: string; service: string; extra: Record<string, string> } => ({
  home,
  service,
  extra: { PATH: `${bin}:${process.env['PATH'] ?? ''}` },
});

async function providerIds(): Promise<string[]> {
  const listed = JSON.parse((await runCli(['providers', '--json'], env())).stdout) as Array<{ id: string }>;
  return listed.map((p) => p.id);
}

describe('the one rule for endpoints and opened URLs', () => {
  it('refuses a discovery document whose authorization endpoint is ms-msdt:, and stores nothing', async () => {
    const added = await runCli(['provider', 'add', 'msdt', '--issuer', `${base}/msdt`, '--client-id', 'tt'], env());
    expect(added.code).not.toBe(0);
    expect(added.stderr).toMatch(/authorization endpoint .*must be an https URL/);
    expect(await providerIds()).not.toContain('msdt');
    expect(existsSync(opened())).toBe(false);
  });

  it('refuses discovered plain-http endpoints on other hosts and non-web userinfo endpoints', async () => {
    const plain = await runCli(['provider', 'add', 'plain', '--issuer', `${base}/plain`, '--client-id', 'tt'], env());
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/token endpoint .*plain http to tokens\.example\.com/);
    const info = await runCli(['provider', 'add', 'info', '--issuer', `${base}/userinfo`, '--client-id', 'tt'], env());
    expect(info.code).not.toBe(0);
    expect(info.stderr).toMatch(/userinfo endpoint/);
    expect(await providerIds()).not.toContain('plain');
    expect(await providerIds()).not.toContain('info');
  });

  it('never hands a file: authorize URL from a provider file on disk to xdg-open', async () => {
    const added = await runCli(['provider', 'add', 'good', '--issuer', `${base}/good`, '--client-id', 'tt'], env());
    expect(added.code).toBe(0);
    // A provider file written before the rule (or edited by hand) that names a file: endpoint.
    const file = join(home, 'providers', 'good.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { generic: { authorizationEndpoint: string } };
    config.generic.authorizationEndpoint = 'file:///etc/passwd';
    writeFileSync(file, JSON.stringify(config));

    const connect = await runCli(['connect', 'good', '--timeout', '5'], env());
    expect(connect.code).not.toBe(0);
    expect(connect.stderr).toMatch(/authorize URL .*must be an https URL/);
    expect(existsSync(opened())).toBe(false);
  });
});
