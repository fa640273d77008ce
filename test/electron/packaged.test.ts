// Launch-and-quit of the unpacked packaged app (`npm run dist` leaves it in
// release/*-unpacked or release/mac*/): the app starts from app.asar with its
// fuses flipped, loads the unpacked keytar, creates the tray and the window,
// and quits cleanly when asked by a second instance. The fuses also turn off
// the inspector Playwright would need, so the app reports readiness to a file
// (TOKENTRAY_E2E_READY_FILE). CI runs this after packaging with
// TOKENTRAY_REQUIRE_PACKAGED=1; elsewhere it is skipped with the reason printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueKeychainService } from '../support/test-core';

interface Unpacked {
  executable: string;
  resources: string;
}

/** Where electron-builder leaves the unpacked app for this OS (its `--dir` layout). */
function findUnpacked(): Unpacked | string {
  const release = resolve('release');
  if (!existsSync(release)) return 'there is no release/ folder (run `npm run dist` first).';
  if (process.platform === 'linux') {
    const dir = join(release, 'linux-unpacked');
    return { executable: join(dir, 'tokentray-desktop'), resources: join(dir, 'resources') };
  }
  if (process.platform === 'win32') {
    const dir = join(release, 'win-unpacked');
    return { executable: join(dir, 'Tokentray.exe'), resources: join(dir, 'resources') };
  }
  const macDir = readdirSync(release).find(
    (name) => /^mac/.test(name) && existsSync(join(release, name, 'Tokentray.app')),
  );
  if (!macDir) return 'release/ has no mac*/Tokentray.app.';
  const contents = join(release, macDir, 'Tokentray.app', 'Contents');
  return { executable: join(contents, 'MacOS', 'Tokentray'), resources: join(contents, 'Resources') };
}

const found = findUnpacked();
const required = process.env['TOKENTRAY_REQUIRE_PACKAGED'] === '1';
const skipReason =
  typeof found === 'string' ? found : existsSync(found.executable) ? null : `${found.executable} does not exist.`;
if (skipReason && !required) console.log(`test/electron/packaged.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== null && !required)('the unpacked packaged app', () => {
  const home = mkdtempSync(join(tmpdir(), 'tokentray-packaged-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('is laid out as packed: app.asar, keytar and the CLI unpacked beside it, fuses flipped', async () => {
    if (typeof found === 'string' || skipReason) throw new Error(`No packaged app: ${skipReason ?? found}`);
    expect(existsSync(join(found.resources, 'app.asar'))).toBe(true);
    expect(existsSync(join(found.resources, 'app.asar.unpacked', 'node_modules', 'keytar'))).toBe(true);
    expect(existsSync(join(found.resources, 'app.asar.unpacked', 'dist', 'cli', 'tokentray.cjs'))).toBe(true);
    const { getCurrentFuseWire, FuseV1Options, FuseState } = await import('@electron/fuses');
    const wire = (await getCurrentFuseWire(found.executable)) as unknown as Record<number, number>;
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
  });

  it('starts (tray, window, keytar) and quits cleanly when a second instance asks', async () => {
    if (typeof found === 'string' || skipReason) throw new Error(`No packaged app: ${skipReason ?? found}`);
    const ready = join(home, 'ready.json');
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    Object.assign(env, {
      TOKENTRAY_HOME: join(home, 'state'),
      TOKENTRAY_KEYCHAIN_SERVICE: uniqueKeychainService(),
      TOKENTRAY_E2E: '1',
      TOKENTRAY_E2E_READY_FILE: ready,
      XDG_CONFIG_HOME: join(home, 'xdg'),
    });
    const app = spawn(found.executable, [], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise<number | null>((done) => app.once('exit', (code) => done(code)));
    try {
      await expect.poll(() => existsSync(ready), { timeout: 60_000, interval: 250 }).toBe(true);
      const report = JSON.parse(readFileSync(ready, 'utf8')) as Record<string, unknown>;
      expect(report).toEqual({
        isPackaged: true,
        tray: true,
        trayIconEmpty: false,
        windowUrl: 'app://tokentray/index.html',
        keytar: true,
      });
      const quitter = spawnSync(found.executable, ['--quit'], { env, timeout: 60_000 });
      expect(quitter.status).toBe(0);
      expect(await exited).toBe(0);
    } finally {
      if (app.exitCode === null) app.kill();
    }
  });
});
