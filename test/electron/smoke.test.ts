// The desktop app with the real Electron binary: main starts, the window shows
// the app, the tray exists, and the preload's IPC reaches the core. Everything
// behind IPC is tested without Electron elsewhere; this only proves the wiring.
// Skipped (with the reason printed) where no Electron binary is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokentrayApi } from '../../electron/shared/ipc-contract';
import { findElectronBinary } from '../support/electron-binary';

const binary = findElectronBinary();
// CI sets TOKENTRAY_REQUIRE_ELECTRON=1: there a missing binary must fail the run instead of skipping quietly.
const required = process.env['TOKENTRAY_REQUIRE_ELECTRON'] === '1';
const missing = 'missing' in binary && !required ? binary.missing : null;
if (missing) console.log(`test/electron/smoke.test.ts skipped: ${missing}`);

interface E2eProbe {
  tray(): { state: string; menu: string[] } | null;
  windowUrl(): string | null;
}

describe.skipIf(missing !== null)('Electron app (real binary)', () => {
  let app: ElectronApplication;
  let home: string;

  beforeAll(async () => {
    if ('missing' in binary) throw new Error(`No Electron binary: ${binary.missing}`);
    if (!existsSync('dist/main/index.cjs') || !existsSync('dist/renderer/index.html')) {
      const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
      if (built.status !== 0) throw new Error('scripts/build.mjs failed');
    }
    home = mkdtempSync(join(tmpdir(), 'tokentray-electron-'));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    app = await electron.launch({
      executablePath: binary.path,
      args: [resolve('dist/main/index.cjs')],
      env: {
        ...env,
        TOKENTRAY_HOME: home,
        TOKENTRAY_KEYCHAIN_SERVICE: `tokentray-smoke-${process.pid}-${Date.now()}`,
        TOKENTRAY_E2E: '1',
      },
      timeout: 60_000,
    });
  });

  afterAll(async () => {
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('opens the window on the app page', async () => {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(await page.title()).toBe('Tokentray');
    expect(page.url()).toBe('app://tokentray/index.html');
    // Sandboxed, isolated page: no Node in the page's world.
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  });

  it('creates the tray with a state and the expected menu', async () => {
    let tray: ReturnType<E2eProbe['tray']> = null;
    for (let i = 0; i < 50 && tray === null; i += 1) {
      tray = await app.evaluate(
        () => (globalThis as unknown as { __tokentrayE2E?: E2eProbe }).__tokentrayE2E?.tray() ?? null,
      );
      if (tray === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(tray).not.toBeNull();
    expect(['ok', 'expiring', 'reconnect', 'offline']).toContain(tray?.state);
    expect(tray?.menu).toEqual(expect.arrayContaining(['Connect account…', 'Open Tokentray', 'Quit']));
  });

  it('answers the page over IPC through the preload', async () => {
    const page = await app.firstWindow();
    const result = await page.evaluate(() =>
      (globalThis as unknown as { tokentray: TokentrayApi }).tokentray.listProviders(),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.data.some((p) => p.kind === 'demo')).toBe(true);
  });
});
