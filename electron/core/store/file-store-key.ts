import { join } from 'node:path';
import { TokentrayError } from '../errors';
import { readKeyFile } from './team-key';

/** systemd's `LoadCredential=`/`LoadCredentialEncrypted=` name for the file store's key. */
export const CREDENTIAL_NAME = 'tokentray.key';

/** Where the file store's key was found, for messages and `tokentray doctor`. */
export interface KeySource {
  path: string;
  from: 'TOKENTRAY_STORE_KEY_FILE' | '--key-file' | 'CREDENTIALS_DIRECTORY';
}

/**
 * Where the file store's key is, in order: TOKENTRAY_STORE_KEY_FILE (wins, as for the shared
 * store), the `--key-file` named at `tokentray store use file`, then systemd's
 * `$CREDENTIALS_DIRECTORY/tokentray.key` (systemd.exec(5), "Credentials": the directory holds
 * each credential as a file named after it, readable by the service only). Null when none is set.
 */
export function fileStoreKeySource(keyFile: string | null, env: NodeJS.ProcessEnv = process.env): KeySource | null {
  const fromEnv = env['TOKENTRAY_STORE_KEY_FILE']?.trim();
  if (fromEnv) return { path: fromEnv, from: 'TOKENTRAY_STORE_KEY_FILE' };
  if (keyFile !== null) return { path: keyFile, from: '--key-file' };
  const credentials = env['CREDENTIALS_DIRECTORY']?.trim();
  if (credentials) return { path: join(credentials, CREDENTIAL_NAME), from: 'CREDENTIALS_DIRECTORY' };
  return null;
}

export function noKeyError(): TokentrayError {
  return new TokentrayError(
    'USAGE',
    'The file store has no key here; set TOKENTRAY_STORE_KEY_FILE, pass systemd a `tokentray.key` credential, or run `tokentray store use file --key-file PATH`.',
  );
}

/** The key itself; a missing file, a file other users can read, or one that holds no key is refused. */
export async function resolveFileStoreKey(keyFile: string | null): Promise<{ key: Buffer; source: KeySource }> {
  const source = fileStoreKeySource(keyFile);
  if (source === null) throw noKeyError();
  return { key: await readKeyFile(source.path), source };
}
