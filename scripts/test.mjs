// `npm test`: the whole suite on a fresh Linux box that has the README's packages.
// It starts a throw-away Secret Service (dbus + unlocked gnome-keyring) so the
// keychain tests run against the real keychain, never the user's own.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

if (process.platform === 'linux' && process.env.TOKENTRAY_TEST_KEYRING !== '1') {
  const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((c) => !which(c));
  if (missing.length > 0) {
    console.error(
      `npm test needs ${missing.join(' and ')} for the keychain tests: sudo apt-get install dbus gnome-keyring libsecret-1-dev (see README).`,
    );
    process.exit(1);
  }
  const inner = `echo -n tokentray-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; TOKENTRAY_TEST_KEYRING=1 exec "${process.execPath}" scripts/test.mjs "$@"`;
  const result = spawnSync('dbus-run-session', ['--', 'sh', '-c', inner, 'sh', ...args], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const steps = [
  ['type-check (node)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json', '--noEmit']],
  ['type-check (web)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.web.json', '--noEmit']],
  ['lint', ['node_modules/eslint/bin/eslint.js', '.', '--max-warnings', '0']],
  ['format', ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.']],
  ['build', ['scripts/build.mjs']],
  ['tests', ['node_modules/vitest/vitest.mjs', 'run', ...args]],
];

const only = process.env.TOKENTRAY_TEST_STEPS?.split(',');
for (const [name, argv] of steps) {
  if (only && !only.includes(name.split(' ')[0])) continue;
  if (!existsSync(argv[0])) {
    console.error(`npm test: ${argv[0]} is missing; run npm ci first.`);
    process.exit(1);
  }
  console.log(`\n▶ ${name}`);
  const result = spawnSync(process.execPath, argv, {
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : '1' },
  });
  if (result.status !== 0) {
    console.error(`\n✖ ${name} failed`);
    process.exit(result.status ?? 1);
  }
}
console.log('\n✔ all checks passed');
