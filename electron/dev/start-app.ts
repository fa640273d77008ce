// `npm start` after the build (scripts/start.mjs loads the bundle of this file):
// the tray app, downloading Electron's binary first when it is missing; the
// development bridge in the default browser only when no binary can be had.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  bridgeNotice,
  electronPackage,
  findElectronBinary,
  planAfterInstall,
  planLaunch,
  type FileProbe,
  type InstallOutcome,
  type LaunchStep,
} from './launch-plan';

/** A real download is ~100 MB; a stalled connection must still end in the bridge, not a hung terminal. */
export const INSTALL_TIME_LIMIT_SECONDS = 15 * 60;

export interface StartDeps {
  cwd: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Arguments after `npm start --`, passed on to the app. `--no-browser` keeps the bridge from opening a tab. */
  args: string[];
  files: FileProbe;
  log(line: string): void;
  runInstaller(installer: string, env: NodeJS.ProcessEnv, timeLimitSeconds: number): Promise<InstallOutcome>;
  /** Both start a long-running child and resolve once it is started. */
  startElectron(binary: string, args: string[], env: NodeJS.ProcessEnv): void;
  startBridge(openBrowser: boolean): void;
}

export const diskFiles: FileProbe = {
  exists: (path) => existsSync(path),
  read: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
};

/** Runs node_modules/electron's `install-electron` script with its own output (errors, progress bar) on this terminal. */
export function runInstaller(
  installer: string,
  env: NodeJS.ProcessEnv,
  timeLimitSeconds: number,
): Promise<InstallOutcome> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [installer], { stdio: 'inherit', env });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, timeLimitSeconds * 1000);
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ exitCode: null, timedOut: false, spawnError: error.message });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ exitCode: code, timedOut });
    });
  });
}

/** Decides and starts; resolves with the step it took (the tests read it). */
export async function startTokentray(deps: StartDeps): Promise<LaunchStep> {
  const pkgDir = resolve(deps.cwd, 'node_modules', 'electron');
  const binary = (): string | null => findElectronBinary(pkgDir, deps.env, deps.platform, deps.files);
  const openBrowser = !deps.args.includes('--no-browser');
  const appArgs = deps.args.filter((arg) => arg !== '--no-browser');

  let step = planLaunch(binary(), electronPackage(pkgDir, deps.files), deps.env);
  if (step.kind === 'install') {
    deps.log(
      `Tokentray: no Electron binary is installed yet (Electron 42+ no longer downloads it during \`npm install\`).\n` +
        `Downloading Electron ${step.version} with its own installer (\`install-electron\`, about 100 MB; ` +
        `its progress bar appears when the download takes longer than 30 s)…\n`,
    );
    const outcome = await deps.runInstaller(step.installer, deps.env, INSTALL_TIME_LIMIT_SECONDS);
    step = planAfterInstall(outcome, binary(), INSTALL_TIME_LIMIT_SECONDS);
  }
  if (step.kind === 'electron') {
    // Electron refuses to start as a GUI when this is set (a parent shell or IDE may leak it).
    const env = { ...deps.env };
    delete env['ELECTRON_RUN_AS_NODE'];
    deps.startElectron(step.binary, [resolve(deps.cwd, 'dist/main/index.cjs'), ...appArgs], env);
  } else if (step.kind === 'bridge') {
    deps.log(bridgeNotice(step.reason, openBrowser));
    deps.startBridge(openBrowser);
  }
  return step;
}

function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(command, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}

export async function main(): Promise<void> {
  const cwd = process.cwd();
  await startTokentray({
    cwd,
    env: process.env,
    platform: process.platform,
    args: process.argv.slice(2),
    files: diskFiles,
    log: (line) => console.log(line),
    runInstaller,
    startElectron: (binary, args, env) => runChild(binary, args, env),
    startBridge: (openBrowser) =>
      runChild(process.execPath, [resolve(cwd, 'dist/dev/bridge-server.cjs')], {
        ...process.env,
        ...(openBrowser ? { TOKENTRAY_BRIDGE_OPEN_BROWSER: '1' } : {}),
      }),
  });
}
