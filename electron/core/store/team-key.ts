import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TokentrayError } from '../errors';
import type { SecretStore } from '../vault/secret-store';
import { TEAM_KEY_BYTES } from './envelope';

/** The keychain item that keeps the team key on a desktop. */
export const TEAM_KEY_ITEM = 'store-team-key';

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== TEAM_KEY_BYTES || !/^[A-Za-z0-9+/=\s]+$/.test(text)) {
    throw new TokentrayError(
      'USAGE',
      `${where} does not hold a Tokentray team key (${TEAM_KEY_BYTES} random bytes in base64); check the path.`,
    );
  }
  return key;
}

export function encodeKey(key: Buffer): string {
  return `${key.toString('base64')}\n`;
}

/** Reads a key file, refusing one that other users could read (the key opens every token in the store). */
export async function readKeyFile(path: string): Promise<Buffer> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    throw new TokentrayError('USAGE', `The team key file ${path} does not exist; check the path.`);
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new TokentrayError(
      'USAGE',
      `The team key file ${path} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` and try again.`,
    );
  }
  return decode(await fs.readFile(path, 'utf8'), `The file ${path}`);
}

/** Writes a key file with mode 0600, never over an existing file. */
export async function writeKeyFile(path: string, key: Buffer): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await fs.writeFile(path, encodeKey(key), { mode: 0o600, flag: 'wx' });
}

/** `--key-file PATH`: the key in PATH, or a new random key written there when the file does not exist yet. */
export async function loadOrCreateKeyFile(path: string): Promise<{ key: Buffer; created: boolean }> {
  try {
    await fs.access(path);
  } catch {
    const key = randomBytes(TEAM_KEY_BYTES);
    await writeKeyFile(path, key);
    return { key, created: true };
  }
  return { key: await readKeyFile(path), created: false };
}

/**
 * Where a running Tokentray finds the team key: TOKENTRAY_STORE_KEY_FILE
 * (servers; systemd's LoadCredential), the key file named at `store use`, or
 * the desktop keychain.
 */
export async function resolveTeamKey(keyFile: string | null, keychain: SecretStore): Promise<Buffer> {
  const fromEnv = process.env['TOKENTRAY_STORE_KEY_FILE'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return readKeyFile(fromEnv.trim());
  const fromKeychain = await keychain.get(TEAM_KEY_ITEM).catch(() => null);
  if (fromKeychain !== null) return decode(fromKeychain, 'The keychain item with the team key');
  if (keyFile !== null) return readKeyFile(keyFile);
  // systemd.exec(5) "Credentials": LoadCredential=tokentray.key:… puts it in $CREDENTIALS_DIRECTORY.
  const credentials = process.env['CREDENTIALS_DIRECTORY']?.trim();
  if (credentials) return readKeyFile(join(credentials, 'tokentray.key'));
  throw new TokentrayError(
    'USAGE',
    'This machine uses a shared store but has no team key; set TOKENTRAY_STORE_KEY_FILE, pass systemd a `tokentray.key` credential, or run `tokentray store use … --key-file PATH`.',
  );
}
