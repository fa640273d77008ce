import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TokentrayError } from '../errors';
import { writeFileAtomic } from '../vault/atomic-file';

/** Which backend this installation uses; absent means the OS keychain. */
const storeConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }),
  z.object({
    kind: z.literal('postgres'),
    url: z.string(),
    keyFile: z.string().nullable(),
    /** The file store's key, kept when a file-store machine moves on, so `store push` can open it. */
    fileKeyFile: z.string().nullable().optional(),
  }),
  /** `tokentray store use file`: sealed files under the state directory (store/file-store.ts). */
  z.object({ kind: z.literal('file'), keyFile: z.string().nullable() }),
]);
export type StoreConfig = z.infer<typeof storeConfigSchema>;

export const STORE_CONFIG_FILE = 'store.json';

export function storeConfigPath(stateDir: string): string {
  return join(stateDir, STORE_CONFIG_FILE);
}

/** Synchronous on purpose: read once when a front door builds its core. */
export function readStoreConfig(stateDir: string): StoreConfig {
  let text: string;
  try {
    text = readFileSync(storeConfigPath(stateDir), 'utf8');
  } catch {
    return { kind: 'local' };
  }
  try {
    return storeConfigSchema.parse(JSON.parse(text));
  } catch {
    throw new TokentrayError(
      'USAGE',
      `${storeConfigPath(stateDir)} is damaged; run \`tokentray store use …\` again to choose the store.`,
    );
  }
}

/** 0600: the connection string may carry a password. */
export async function writeStoreConfig(stateDir: string, config: StoreConfig): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(storeConfigPath(stateDir), `${JSON.stringify(config, null, 2)}\n`);
}

/** The connection string as it may be shown: no password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'an unparsable connection string';
  }
}
