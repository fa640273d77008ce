// `npm start` (after the build): the desktop app when an Electron binary is
// installed, otherwise the development bridge, so the app still opens, in a
// browser. Both run the same core; with no provider set up, both open on the
// demo provider (the core lists it until the user removes it).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Electron binary, found the way node_modules/electron/index.js finds it,
 * but without that module's side effect of downloading Electron when it is missing.
 */
function electronBinary() {
  const pkgDir = resolve('node_modules', 'electron');
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let candidate = null;
  if (override) candidate = join(override, relative ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'));
  else if (relative) candidate = join(pkgDir, 'dist', relative);
  return candidate && existsSync(candidate) ? candidate : null;
}

function run(command, args, env = process.env) {
  const child = spawn(command, args, { stdio: 'inherit', env });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}

const binary = electronBinary();
if (binary) {
  // Electron refuses to start as a GUI when this is set (a parent shell or IDE may leak it).
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  run(binary, [resolve('dist/main/index.cjs'), ...process.argv.slice(2)], env);
} else {
  console.log(
    [
      'Tokentray: no Electron binary is installed (node_modules/electron has none, and ELECTRON_OVERRIDE_DIST_PATH is not set),',
      'so the desktop app cannot start here. Starting the development bridge instead: the same core and UI, in your browser.',
      'To get the desktop app: `npx install-electron` (or reinstall with network access), or point ELECTRON_OVERRIDE_DIST_PATH at an Electron build.',
      '',
    ].join('\n'),
  );
  run(process.execPath, [resolve('dist/dev/bridge-server.cjs')]);
}
