// What `npm start` does, decided without side effects so it can be tested:
// start the installed Electron binary; with none, run Electron's own installer
// and start the binary it fetched; only when there is no binary to be had
// (ELECTRON_SKIP_BINARY_DOWNLOAD, no network, a failed download) fall back to
// the development bridge in the browser, saying why.
import { join } from 'node:path';

export interface ElectronPackage {
  /** node_modules/electron */
  dir: string;
  version: string;
  /**
   * The installer script behind the package's `install-electron` command
   * (package.json "bin"). Electron 42+ ships no install script, so nothing
   * downloads the binary during `npm install`; this is what fetches it.
   */
  installer: string | null;
}

export interface FileProbe {
  exists(path: string): boolean;
  read(path: string): string | null;
}

/**
 * The Electron binary, found the way node_modules/electron/index.js finds it,
 * without that module's side effect of running the installer when it is missing.
 */
export function findElectronBinary(
  pkgDir: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  files: FileProbe,
): string | null {
  const relative = files.read(join(pkgDir, 'path.txt'))?.trim() || null;
  const override = env['ELECTRON_OVERRIDE_DIST_PATH'];
  let candidate: string | null = null;
  if (override) candidate = join(override, relative ?? (platform === 'win32' ? 'electron.exe' : 'electron'));
  else if (relative) candidate = join(pkgDir, 'dist', relative);
  return candidate && files.exists(candidate) ? candidate : null;
}

/** Reads the installer's path from node_modules/electron/package.json's "bin" map. */
export function electronPackage(pkgDir: string, files: FileProbe): ElectronPackage | null {
  const text = files.read(join(pkgDir, 'package.json'));
  if (text === null) return null;
  try {
    const manifest = JSON.parse(text) as { version?: unknown; bin?: unknown };
    const bin = manifest.bin && typeof manifest.bin === 'object' ? (manifest.bin as Record<string, unknown>) : {};
    const script = bin['install-electron'];
    return {
      dir: pkgDir,
      version: typeof manifest.version === 'string' ? manifest.version : 'unknown',
      installer: typeof script === 'string' && files.exists(join(pkgDir, script)) ? join(pkgDir, script) : null,
    };
  } catch {
    return null;
  }
}

/** The variable Electron's docs name for "do not download the binary"; any value but 0/false counts. */
export function skipsDownload(env: NodeJS.ProcessEnv): boolean {
  const value = (env['ELECTRON_SKIP_BINARY_DOWNLOAD'] ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

export type LaunchStep =
  | { kind: 'electron'; binary: string }
  | { kind: 'install'; installer: string; version: string }
  | { kind: 'bridge'; reason: string };

/** Before any download: what to do with what is on disk and in the environment. */
export function planLaunch(binary: string | null, pkg: ElectronPackage | null, env: NodeJS.ProcessEnv): LaunchStep {
  if (binary) return { kind: 'electron', binary };
  if (env['ELECTRON_OVERRIDE_DIST_PATH']) {
    return {
      kind: 'bridge',
      reason: `ELECTRON_OVERRIDE_DIST_PATH points at ${env['ELECTRON_OVERRIDE_DIST_PATH']}, which holds no Electron binary (nothing was downloaded: that variable says to use a binary from elsewhere).`,
    };
  }
  if (skipsDownload(env)) {
    return {
      kind: 'bridge',
      reason:
        'no Electron binary is installed and ELECTRON_SKIP_BINARY_DOWNLOAD is set, so none was downloaded. Unset it and run `npm start` again (or `npx install-electron`) to get the desktop app.',
    };
  }
  if (!pkg?.installer) {
    return {
      kind: 'bridge',
      reason:
        'no Electron binary is installed and node_modules/electron has no `install-electron` installer; run `npm install` again.',
    };
  }
  return { kind: 'install', installer: pkg.installer, version: pkg.version };
}

export interface InstallOutcome {
  /** The installer's exit code; null when it was stopped (signal or time limit). */
  exitCode: number | null;
  timedOut: boolean;
  /** The spawn itself failed (no such file, permissions). */
  spawnError?: string;
}

/** After the installer ran: start what it fetched, or say why the bridge starts instead. */
export function planAfterInstall(outcome: InstallOutcome, binary: string | null, timeLimitSeconds: number): LaunchStep {
  if (binary && outcome.exitCode === 0) return { kind: 'electron', binary };
  const retry = 'With network access, run `npm start` again (or `npx install-electron`) to get the desktop app.';
  if (outcome.spawnError) {
    return { kind: 'bridge', reason: `Electron's installer could not be started (${outcome.spawnError}). ${retry}` };
  }
  if (outcome.timedOut) {
    return {
      kind: 'bridge',
      reason: `Electron's installer did not finish within ${Math.round(timeLimitSeconds / 60)} minutes and was stopped. ${retry}`,
    };
  }
  if (outcome.exitCode === 0) {
    return {
      kind: 'bridge',
      reason: `Electron's installer finished but left no binary in node_modules/electron/dist. Delete node_modules/electron and run \`npm install\` again.`,
    };
  }
  return {
    kind: 'bridge',
    reason: `Electron's installer could not download the binary (exit code ${outcome.exitCode ?? 'none'}; its error is printed above — usually no network or a proxy in the way). ${retry}`,
  };
}

export function bridgeNotice(reason: string, openBrowser: boolean): string {
  return [
    `Tokentray: the desktop app cannot start here: ${reason}`,
    `Starting the development bridge instead: the same core and UI, in your browser${openBrowser ? ' (it opens by itself)' : ''}.`,
    '',
  ].join('\n');
}
