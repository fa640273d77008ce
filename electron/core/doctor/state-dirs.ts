import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FILE_STORE_DIR } from '../store/file-store';
import type { DoctorReport } from './doctor-report';

export type DirectoryCheck = DoctorReport['directories'][number];

/**
 * The state directory and the folders under it that hold something other users must not change:
 * account metadata, the account locks, provider settings, the file store, the task cache, the
 * shared request slots and the bridge's launch pages. Tokentray creates them 0700.
 */
const ROLES: Array<{ role: string; sub: string | null }> = [
  { role: 'state', sub: null },
  { role: 'accounts', sub: 'accounts' },
  { role: 'locks', sub: 'locks' },
  { role: 'providers', sub: 'providers' },
  { role: 'secrets (file store)', sub: FILE_STORE_DIR },
  { role: 'cache', sub: 'cache' },
  { role: 'rate', sub: 'rate' },
  { role: 'run', sub: 'run' },
];

/**
 * A folder other users may write to lets them replace a lock (two refreshes, one spent token),
 * a provider's endpoints or an account's metadata; one owned by another user is theirs to change.
 * Missing folders are fine: Tokentray creates them on first use.
 */
export async function checkDirectory(role: string, path: string): Promise<DirectoryCheck> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    return { role, path, exists: false, mode: null, ownedByYou: null, problem: null };
  }
  if (process.platform === 'win32') return { role, path, exists: true, mode: null, ownedByYou: null, problem: null };
  const mode = stat.mode & 0o777;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const ownedByYou = uid === null ? null : stat.uid === uid;
  const octal = mode.toString(8).padStart(3, '0');
  let problem: string | null = null;
  if (!stat.isDirectory()) problem = `${path} is not a folder; move it away so Tokentray can create its own.`;
  else if (ownedByYou === false)
    problem = `${path} belongs to another user (uid ${stat.uid}); run Tokentray as that user, or give it its own TOKENTRAY_HOME.`;
  else if ((mode & 0o022) !== 0)
    problem = `${path} can be changed by other users (mode ${octal}); run \`chmod 700 ${path}\`.`;
  return { role, path, exists: true, mode: octal, ownedByYou, problem };
}

export async function checkStateDirectories(stateDir: string): Promise<DirectoryCheck[]> {
  return Promise.all(ROLES.map(({ role, sub }) => checkDirectory(role, sub === null ? stateDir : join(stateDir, sub))));
}
