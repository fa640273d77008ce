import { execFileSync } from 'node:child_process';

/** The CLI tests run the built `tokentray`; bundle it once per run (esbuild takes about a second). */
export default function setup(): void {
  if (process.env['TOKENTRAY_SKIP_BUILD'] === '1') return;
  execFileSync(process.execPath, ['scripts/build.mjs', '--no-renderer'], { stdio: 'inherit' });
}
