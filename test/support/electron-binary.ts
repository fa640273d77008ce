import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the Electron binary is, or why there is none. Mirrors
 * node_modules/electron/index.js without its side effect: requiring that
 * module downloads Electron when the binary is missing, which must never
 * happen from a test.
 */
export function findElectronBinary(): { path: string } | { missing: string } {
  const pkgDir = resolve('node_modules', 'electron');
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const candidate = override
    ? join(override, relative ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'))
    : relative
      ? join(pkgDir, 'dist', relative)
      : null;
  if (candidate === null) {
    return {
      missing:
        'node_modules/electron has no binary (its download was skipped or failed); set ELECTRON_OVERRIDE_DIST_PATH to use one elsewhere.',
    };
  }
  if (!existsSync(candidate)) return { missing: `the Electron binary ${candidate} does not exist.` };
  return { path: candidate };
}
