// Runs a command inside a throw-away Secret Service (dbus + unlocked gnome-keyring) on Linux,
// so tests and benchmarks use a real keychain without touching the user's own.
// Elsewhere (macOS, Windows) the system keychain is used directly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-keyring.mjs <command> [args...]');
  process.exit(2);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

let result;
if (process.platform === 'linux' && process.env.TOKENTRAY_TEST_KEYRING !== '1') {
  const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((c) => !has(c));
  if (missing.length > 0) {
    console.error(
      `${missing.join(' and ')} not found: install the README's packages (sudo apt-get install dbus gnome-keyring libsecret-1-dev).`,
    );
    process.exit(1);
  }
  const inner =
    'echo -n tokentray-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; TOKENTRAY_TEST_KEYRING=1 exec "$@"';
  // gnome-keyring keeps its keyrings under $XDG_DATA_HOME: a folder of its own per run, so two runs
  // side by side (or a developer's own keyring) never see, or wipe, each other's items.
  const data = mkdtempSync(join(tmpdir(), 'tokentray-keyring-'));
  result = spawnSync('dbus-run-session', ['--', 'sh', '-c', inner, 'sh', command, ...args], {
    stdio: 'inherit',
    env: { ...process.env, XDG_DATA_HOME: data },
  });
  rmSync(data, { recursive: true, force: true });
} else {
  result = spawnSync(command, args, { stdio: 'inherit' });
}
process.exit(result.status ?? 1);
