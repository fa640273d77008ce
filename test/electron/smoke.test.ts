// The desktop app with the real Electron binary: main starts, the window shows
// the app, the tray exists with a real icon and its menu, the demo account is
// connected through the real main process and its IPC (not the bridge), a
// second instance hands its deep link to the first (which finishes a sign-in
// with it), and `--hidden` starts the tray without a window. The test drives
// main through the IPC a window uses and Electron's own APIs; only the tray,
// which nothing else can see, is read through a probe bundled into a test build
// of main (tray-probe.ts, built here to dist/main/probed.cjs). Everything behind
// IPC is tested without Electron elsewhere; this proves the wiring. Skipped (with the reason printed) where no
// Electron binary is installed; CI installs one and sets TOKENTRAY_REQUIRE_ELECTRON=1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { DEMO_USERS } from '../../electron/core/demo/demo-tasks';
import type { TokentrayApi } from '../../electron/shared/ipc-contract';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { approveDemoConsent } from '../support/demo-browser';
import { findElectronBinary } from '../support/electron-binary';
import { uniqueKeychainService } from '../support/test-core';
import type { TrayProbe } from './tray-probe';

const binary = findElectronBinary();
// CI sets TOKENTRAY_REQUIRE_ELECTRON=1: there a missing binary must fail the run instead of skipping quietly.
const required = process.env['TOKENTRAY_REQUIRE_ELECTRON'] === '1';
const missing = 'missing' in binary && !required ? binary.missing : null;
if (missing) console.log(`test/electron/smoke.test.ts skipped: ${missing}`);
const electronPath = 'path' in binary ? binary.path : '';

const SCREENSHOTS = resolve('test-output', 'screenshots');
// The product's main bundle with the tray probe in front of it, next to dist/main/index.cjs so its paths hold.
const ENTRY = resolve('dist/main/probed.cjs');

type ProbeAnswer<K extends keyof TrayProbe> = ReturnType<TrayProbe[K]>;

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  delete env['ELECTRON_RUN_AS_NODE'];
  return env;
}

async function probe<K extends keyof TrayProbe>(app: ElectronApplication, key: K): Promise<ProbeAnswer<K> | null> {
  return app.evaluate((_electron, name) => {
    const p = (globalThis as unknown as { __tokentrayTrayProbe?: Record<string, () => unknown> }).__tokentrayTrayProbe;
    return p ? (p[name]?.() ?? null) : null;
  }, key) as Promise<ProbeAnswer<K> | null>;
}

/** Whether any window of the app is on screen, as Electron itself reports it. */
function windowVisible(app: ElectronApplication): Promise<boolean> {
  return app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().some((w) => w.isVisible()));
}

function api(page: Page) {
  return {
    call: <T>(fn: (api: TokentrayApi) => Promise<T>): Promise<T> =>
      page.evaluate(`(${fn.toString()})(globalThis.tokentray)`) as Promise<T>,
  };
}

async function buildIfNeeded(): Promise<void> {
  if (!existsSync('dist/main/index.cjs') || !existsSync('dist/renderer/index.html')) {
    const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('scripts/build.mjs failed');
  }
  // Always rebuilt: it must carry the main process of this very tree. Options as scripts/build.mjs bundles main.
  await build({
    entryPoints: ['test/electron/probed-main.ts'],
    outfile: ENTRY,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['electron', 'keytar', 'oidc-provider', 'playwright-core', 'fsevents'],
    logLevel: 'warning',
  });
}

describe.skipIf(missing !== null)('Electron app (real binary)', () => {
  let app: ElectronApplication;
  let home: string;
  let service: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    if ('missing' in binary) throw new Error(`No Electron binary: ${binary.missing}`);
    await buildIfNeeded();
    home = mkdtempSync(join(tmpdir(), 'tokentray-electron-'));
    service = uniqueKeychainService();
    env = {
      ...processEnv(),
      TOKENTRAY_HOME: home,
      TOKENTRAY_KEYCHAIN_SERVICE: service,
      // The autostart entry of an unpackaged run is never written, but keep any attempt out of the user's folder.
      XDG_CONFIG_HOME: join(home, 'xdg'),
    };
    app = await electron.launch({ executablePath: electronPath, args: [ENTRY], env, timeout: 60_000 });
  });

  afterAll(async () => {
    await app?.close();
    if (service) {
      const store = new KeytarSecretStore(service);
      for (const key of await store.keys().catch(() => [])) await store.delete(key).catch(() => undefined);
    }
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('opens the window on the app page, sandboxed', async () => {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(await page.title()).toMatch(/^Tokentray/);
    expect(page.url()).toBe('app://tokentray/index.html');
    // Sandboxed, isolated page: no Node in the page's world.
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  });

  it('creates the tray with a non-empty icon and its menu (waited for, not raced)', async () => {
    await expect
      .poll(async () => (await probe(app, 'tray'))?.menu.includes('Quit') ?? false, { timeout: 30_000, interval: 200 })
      .toBe(true);
    const tray = await probe(app, 'tray');
    expect(['ok', 'expiring', 'reconnect', 'offline']).toContain(tray?.state);
    expect(tray?.menu).toEqual(expect.arrayContaining(['Connect account…', 'Open Tokentray', 'Quit']));
    // An icon path that does not resolve (asar layout, a renamed file) gives an empty image: an invisible tray.
    expect(await probe(app, 'trayIconEmpty')).toBe(false);
  });

  it('does not claim tokentray:// from a development run', async () => {
    expect(await app.evaluate(({ app: electronApp }) => electronApp.isDefaultProtocolClient('tokentray'))).toBe(false);
  });

  it('connects the demo account through main and IPC, and the window shows it', async () => {
    const page = await app.firstWindow();
    await page.locator('.sidebar').waitFor();
    const { call } = api(page);
    const started = await call((tokentray) => tokentray.startConnect({ provider: 'demo' }));
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    // This test plays the browser: the consent page of the demo provider main serves, then the loopback redirect.
    const callback = await approveDemoConsent(started.data.authorizeUrl);
    const landed = await fetch(callback);
    expect(landed.status).toBe(200);
    await landed.body?.cancel();
    await page.getByTestId('account-card').first().waitFor({ timeout: 30_000 });
    const accounts = await call((tokentray) => tokentray.listAccounts());
    expect(accounts.ok && accounts.data.length).toBe(1);
    // The tray heard about it too.
    await expect
      .poll(async () => (await probe(app, 'tray'))?.menu.some((line) => line.startsWith('Demo')) ?? false, {
        timeout: 30_000,
      })
      .toBe(true);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `electron-connected-${process.platform}.png`) });
    // Start at login from an unpackaged run: reported as unavailable with the reason, never registered.
    const login = await call((tokentray) => tokentray.getStartAtLogin());
    expect(login.ok && login.data.supported).toBe(false);
    expect(login.ok && login.data.reason).toBeTruthy();
  });

  it('hands a second instance and its deep link to the running app, which finishes the sign-in and shows its window', async () => {
    const page = await app.firstWindow();
    const { call } = api(page);
    const secondInstance = async (link: string): Promise<number | null> => {
      const second = spawn(electronPath, [ENTRY, link], { env, stdio: 'ignore' });
      return new Promise<number | null>((done) => second.once('exit', (code) => done(code)));
    };

    // A link no sign-in was waiting for changes nothing, but still brings the window back.
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().forEach((w) => w.hide()));
    expect(await windowVisible(app)).toBe(false);
    // The second process gives up the lock and quits; the first one got its argv.
    expect(await secondInstance('tokentray://callback/demo?code=x&state=not-pending')).toBe(0);
    await expect.poll(() => windowVisible(app), { timeout: 15_000 }).toBe(true);
    const unchanged = await call((tokentray) => tokentray.listAccounts());
    expect(unchanged.ok && unchanged.data.length).toBe(1);

    // A sign-in waiting for its redirect (no loopback listener): the browser's redirect arrives as a
    // tokentray:// link in a second instance, and the first instance connects the account with it.
    const started = await call((tokentray) => tokentray.startConnect({ provider: 'demo', listen: false }));
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const landed = new URL(await approveDemoConsent(started.data.authorizeUrl, { user: DEMO_USERS[1]!.id }));
    expect(await secondInstance(`tokentray://callback/demo${landed.search}`)).toBe(0);
    await expect
      .poll(
        async () => {
          const listed = await call((tokentray) => tokentray.listAccounts());
          return listed.ok ? listed.data.length : -1;
        },
        { timeout: 30_000 },
      )
      .toBe(2);
  });
});

describe.skipIf(missing !== null)('Electron app started at login (--hidden)', () => {
  it('shows only the tray, no window, and quits on `--quit` from another instance', async () => {
    if ('missing' in binary) throw new Error(`No Electron binary: ${binary.missing}`);
    await buildIfNeeded();
    const home = mkdtempSync(join(tmpdir(), 'tokentray-hidden-'));
    const env = {
      ...processEnv(),
      TOKENTRAY_HOME: home,
      TOKENTRAY_KEYCHAIN_SERVICE: uniqueKeychainService(),
      XDG_CONFIG_HOME: join(home, 'xdg'),
    };
    const app = await electron.launch({
      executablePath: electronPath,
      args: [ENTRY, '--hidden'],
      env,
      timeout: 60_000,
    });
    try {
      await expect
        .poll(async () => (await probe(app, 'tray'))?.menu.includes('Quit') ?? false, {
          timeout: 30_000,
          interval: 200,
        })
        .toBe(true);
      expect(await windowVisible(app)).toBe(false);
      const visible = await app.evaluate(({ BrowserWindow }) =>
        BrowserWindow.getAllWindows().filter((w) => w.isVisible()),
      );
      expect(visible).toHaveLength(0);
      const closed = new Promise<void>((done) => app.process().once('exit', () => done()));
      const quitter = spawnSync(electronPath, [ENTRY, '--quit'], { env, timeout: 60_000 });
      expect(quitter.status).toBe(0);
      await closed;
    } finally {
      await app.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
