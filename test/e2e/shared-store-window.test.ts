// The window on a machine that uses the shared store (real PostgreSQL, real keychain, the
// renderer in Chromium through the development bridge): when the database goes away the
// window says "shared store unreachable" above whatever view is open, keeps the accounts it
// has, and drops the notice once the database answers again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokentrayCore } from '../../electron/core/create-core';
import type { TokentrayCore } from '../../electron/core/service';
import { startBridge, type BridgeHandle } from '../../electron/dev/bridge-server';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../support/postgres';
import { uniqueKeychainService } from '../support/test-core';
import { buildRenderer, launchBrowser, requireChromium, screenshot, tearDownRun } from './support';

let db: TestPostgres;
let emu: EmulatorHandle;
let home: string;
let service: string;
let rendererDir: string;
let core: TokentrayCore;
let bridge: BridgeHandle;
let context: BrowserContext;
let page: Page;

async function ok(run: Promise<CliResult>): Promise<CliResult> {
  const result = await run;
  expect(result.code, result.stderr).toBe(0);
  return result;
}

describe.skipIf(!postgresAvailable())('the window on a shared store', () => {
  beforeAll(async () => {
    requireChromium();
    home = mkdtempSync(join(tmpdir(), 'tokentray-shared-window-'));
    service = uniqueKeychainService();
    const machine = { home, service };
    db = await startTestPostgres();
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
    emu = await startAmocrmEmulator({ redirectUri, taskCount: 3 });
    await ok(runCli(amocrmSetArgs(emu, redirectUri), machine, emu.clientSecret));
    const code = emu.issueAuthorizationCode({ user: 'alice' });
    await ok(runCli(['connect', 'amocrm', '--code', code, '--host', 'example.amocrm.ru', '--label', 'Sales'], machine));
    await ok(runCli(['store', 'use', db.url, '--key-file', join(home, 'team.key')], machine));
    await ok(runCli(['store', 'push'], machine));
    rendererDir = buildRenderer();
    core = await createTokentrayCore({ home, keychainService: service });
    bridge = await startBridge({ core, home, keychainService: service, rendererDir });
    context = await launchBrowser();
    page = await context.newPage();
    await page.goto(bridge.url);
  }, 180_000);

  afterAll(async () => {
    db?.start();
    await tearDownRun({ context, bridge, demo: core, service, home, rendererDir });
    await emu?.close();
    db?.remove();
  });

  it('says "shared store unreachable" while PostgreSQL is down, keeps the accounts, and clears it when it is back', async () => {
    const card = page.getByTestId('account-card');
    await card.waitFor();
    expect(await card.innerText()).toContain('Sales');
    const notice = page.getByTestId('storage-unreachable');
    expect(await notice.count()).toBe(0);

    db.stop();
    await notice.waitFor({ timeout: 20_000 });
    // Announced, not only shown: the notice arrives inside a status region that was already in the page.
    const region = page.getByRole('status').filter({ has: notice });
    expect(await region.innerText()).toMatch(/Shared store unreachable[\s\S]*cached on this machine/);
    expect(await card.innerText()).toContain('Sales');
    await screenshot(page, 'shared-store-unreachable');

    // It stands above every view, not only the accounts list.
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('start-at-login-switch').waitFor();
    expect(await notice.isVisible()).toBe(true);

    db.start();
    await notice.waitFor({ state: 'detached', timeout: 20_000 });
    await page.getByTestId('nav-accounts').click();
    expect(await card.innerText()).toContain('Sales');
  }, 90_000);
});
