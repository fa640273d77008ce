// `npm test` (run through scripts/with-keyring.mjs, which provides a throw-away
// Secret Service on Linux): type-check, lint, format, build, then every test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);

const steps = [
  ['type-check (node)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json', '--noEmit']],
  ['type-check (web)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.web.json', '--noEmit']],
  // Browser-driving tests see both Node and the DOM (page.evaluate bodies run in Chromium).
  ['type-check (e2e)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.e2e.json', '--noEmit']],
  ['lint', ['node_modules/eslint/bin/eslint.js', '.', '--max-warnings', '0']],
  ['format', ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.']],
  ['security', ['scripts/security.mjs']],
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
