// `npm start`: the tray app when Electron's binary is there or can be
// downloaded by Electron's own installer; the bridge in the browser, with the
// reason, only when it cannot. Fake electron packages in temp folders stand in
// for node_modules/electron; their installers are real scripts run by the real
// spawner, so exit codes, the time limit and "no download at all" are observed.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planAfterInstall, planLaunch, skipsDownload } from '../../electron/dev/launch-plan';
import { diskFiles, runInstaller, startTokentray, type StartDeps } from '../../electron/dev/start-app';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const BINARY_NAME = process.platform === 'win32' ? 'electron.exe' : 'electron';

/** A project folder whose node_modules/electron has an `install-electron` script with the given body. */
function project(installerBody: string | null, withBinary = false): string {
  const cwd = mkdtempSync(join(tmpdir(), 'tokentray-start-'));
  dirs.push(cwd);
  const pkg = join(cwd, 'node_modules', 'electron');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'electron',
      version: '45.4.1',
      bin: { electron: 'cli.js', 'install-electron': 'install.js' },
    }),
  );
  if (installerBody !== null) writeFileSync(join(pkg, 'install.js'), installerBody);
  if (withBinary) placeBinary(pkg);
  return cwd;
}

function placeBinary(pkg: string): void {
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'dist', BINARY_NAME), '');
  chmodSync(join(pkg, 'dist', BINARY_NAME), 0o755);
  writeFileSync(join(pkg, 'path.txt'), BINARY_NAME);
}

// What a successful install.js does: unpack dist/ and write path.txt (node_modules/electron/install.js, extractFile).
const INSTALLS_BINARY = `
const fs = require('fs'), path = require('path');
fs.writeFileSync(path.join(__dirname, 'ran'), 'yes');
fs.mkdirSync(path.join(__dirname, 'dist'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'dist', ${JSON.stringify(BINARY_NAME)}), '');
fs.writeFileSync(path.join(__dirname, 'path.txt'), ${JSON.stringify(BINARY_NAME)});
`;
// What install.js does offline: print the stack of "fetch failed" and exit 1.
const FAILS_OFFLINE = `
require('fs').writeFileSync(require('path').join(__dirname, 'ran'), 'yes');
console.error('TypeError: fetch failed');
process.exit(1);
`;

interface Recorded {
  deps: StartDeps;
  log: string[];
  installs: string[];
  electron: { binary: string; args: string[]; env: NodeJS.ProcessEnv }[];
  bridge: boolean[];
}

function record(cwd: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Recorded {
  const rec: Omit<Recorded, 'deps'> = { log: [], installs: [], electron: [], bridge: [] };
  const deps: StartDeps = {
    cwd,
    env,
    platform: process.platform,
    args,
    files: diskFiles,
    log: (line) => rec.log.push(line),
    runInstaller: async (installer, installerEnv, limit) => {
      rec.installs.push(installer);
      return runInstaller(installer, installerEnv, limit);
    },
    startElectron: (binary, appArgs, appEnv) => rec.electron.push({ binary, args: appArgs, env: appEnv }),
    startBridge: (open) => rec.bridge.push(open),
  };
  return { ...rec, deps };
}

function ran(cwd: string): boolean {
  try {
    return readFileSync(join(cwd, 'node_modules', 'electron', 'ran'), 'utf8') === 'yes';
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('starts the installed binary with the app entry, without downloading anything', async () => {
    const cwd = project(INSTALLS_BINARY, true);
    const rec = record(cwd, { ELECTRON_RUN_AS_NODE: '1', KEEP: 'me' }, ['--hidden']);
    const step = await startTokentray(rec.deps);
    expect(step.kind).toBe('electron');
    expect(rec.installs).toEqual([]);
    expect(rec.electron).toHaveLength(1);
    expect(rec.electron[0]?.binary).toBe(join(cwd, 'node_modules', 'electron', 'dist', BINARY_NAME));
    expect(rec.electron[0]?.args).toEqual([join(cwd, 'dist/main/index.cjs'), '--hidden']);
    // A leaked ELECTRON_RUN_AS_NODE would start Electron as plain Node instead of the app.
    expect(rec.electron[0]?.env['ELECTRON_RUN_AS_NODE']).toBeUndefined();
    expect(rec.electron[0]?.env['KEEP']).toBe('me');
    expect(rec.bridge).toEqual([]);
  });

  it("runs Electron's own installer when the binary is missing, then starts the app it fetched", async () => {
    const cwd = project(INSTALLS_BINARY);
    const rec = record(cwd);
    const step = await startTokentray(rec.deps);
    expect(rec.installs).toEqual([join(cwd, 'node_modules', 'electron', 'install.js')]);
    expect(ran(cwd)).toBe(true);
    expect(step.kind).toBe('electron');
    expect(rec.electron).toHaveLength(1);
    expect(rec.bridge).toEqual([]);
    expect(rec.log.join('\n')).toContain('Downloading Electron 45.4.1');
  });

  it('falls back to the bridge, opened in the browser, when the download fails, and says why', async () => {
    const cwd = project(FAILS_OFFLINE);
    const rec = record(cwd);
    const step = await startTokentray(rec.deps);
    expect(ran(cwd)).toBe(true);
    expect(step.kind).toBe('bridge');
    expect(rec.electron).toEqual([]);
    expect(rec.bridge).toEqual([true]);
    const said = rec.log.join('\n');
    expect(said).toContain('could not download the binary (exit code 1');
    expect(said).toContain('opens by itself');
    expect(said).toContain('npm start` again');
  });

  it('with ELECTRON_SKIP_BINARY_DOWNLOAD=1 never runs the installer and opens the bridge', async () => {
    const cwd = project(INSTALLS_BINARY);
    const rec = record(cwd, { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    const step = await startTokentray(rec.deps);
    expect(rec.installs).toEqual([]);
    expect(ran(cwd)).toBe(false);
    expect(step).toMatchObject({ kind: 'bridge' });
    expect(rec.bridge).toEqual([true]);
    expect(rec.log.join('\n')).toContain('ELECTRON_SKIP_BINARY_DOWNLOAD is set');
  });

  it('`npm start -- --no-browser` keeps the bridge from opening a tab and is not passed to the app', async () => {
    const rec = record(project(FAILS_OFFLINE), {}, ['--no-browser']);
    await startTokentray(rec.deps);
    expect(rec.bridge).toEqual([false]);
    expect(rec.log.join('\n')).not.toContain('opens by itself');
  });

  it('stops an installer that hangs at the time limit instead of hanging `npm start`', async () => {
    const cwd = project('setInterval(() => undefined, 1000);');
    const outcome = await runInstaller(join(cwd, 'node_modules', 'electron', 'install.js'), {}, 1);
    expect(outcome).toEqual({ exitCode: null, timedOut: true });
    const step = planAfterInstall(outcome, null, 15 * 60);
    expect(step).toMatchObject({ kind: 'bridge' });
    expect(step.kind === 'bridge' && step.reason).toContain('did not finish within 15 minutes');
  });

  it('reads the installer from the real electron package\'s "bin", as npm would run `install-electron`', async () => {
    const { electronPackage } = await import('../../electron/dev/launch-plan');
    const pkg = electronPackage(join(process.cwd(), 'node_modules', 'electron'), diskFiles);
    expect(pkg?.installer).toBe(join(process.cwd(), 'node_modules', 'electron', 'install.js'));
    expect(pkg?.version).toMatch(/^45\./);
  });

  it('treats ELECTRON_SKIP_BINARY_DOWNLOAD like Electron does: any value but empty, 0 or false', () => {
    expect(skipsDownload({})).toBe(false);
    expect(skipsDownload({ ELECTRON_SKIP_BINARY_DOWNLOAD: '' })).toBe(false);
    expect(skipsDownload({ ELECTRON_SKIP_BINARY_DOWNLOAD: '0' })).toBe(false);
    expect(skipsDownload({ ELECTRON_SKIP_BINARY_DOWNLOAD: 'false' })).toBe(false);
    expect(skipsDownload({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toBe(true);
    expect(skipsDownload({ ELECTRON_SKIP_BINARY_DOWNLOAD: 'true' })).toBe(true);
  });

  it('never downloads over an ELECTRON_OVERRIDE_DIST_PATH that holds no binary', () => {
    const step = planLaunch(
      null,
      { dir: 'x', version: '45', installer: 'x/install.js' },
      {
        ELECTRON_OVERRIDE_DIST_PATH: '/nowhere',
      },
    );
    expect(step.kind === 'bridge' && step.reason).toContain('ELECTRON_OVERRIDE_DIST_PATH');
  });
});
