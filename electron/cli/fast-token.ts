/**
 * The `tokentray` entry. Scripts call `tokentray token <account>` in loops, and
 * loading the whole CLI (commander, zod, undici, every provider) costs about
 * as much as starting Node itself. So this file answers exactly that command
 * from the account's metadata file and one keychain read when the stored token
 * is fresh enough as it is, and hands everything else (any other command, any
 * option it does not know, a token that needs a refresh, anything unexpected)
 * to the full CLI, which decides and reports. It never refreshes, writes or
 * prints anything but the token itself (or, for `--header`, its bearer header).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keychainServiceName, resolveStateDir } from '../core/paths';
import { freshTokenLine } from './stored-token';

interface MetaFile {
  id: string;
  label: string;
  state: string;
  unsavedRotation?: unknown;
}

interface FastArgs {
  ref: string;
  minValid: number;
  /** `--header`: print `Authorization: Bearer …` for `curl -H @-`. */
  header: boolean;
}

function parseArgs(argv: string[]): FastArgs | null {
  if (argv[0] !== 'token' || argv.length < 2) return null;
  const ref = argv[1]!;
  if (ref.startsWith('-')) return null;
  const args: FastArgs = { ref, minValid: 0, header: false };
  let minValidSeen = false;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--header' && !args.header) args.header = true;
    else if ((arg === '--min-valid' || arg.startsWith('--min-valid=')) && !minValidSeen) {
      const value = arg === '--min-valid' ? argv[++i] : arg.slice('--min-valid='.length);
      if (value === undefined || !/^\d+$/.test(value)) return null;
      args.minValid = Number(value);
      minValidSeen = true;
    } else return null;
  }
  return args;
}

function readMeta(dir: string): MetaFile[] | null {
  const out: MetaFile[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const value = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<MetaFile>;
    if (typeof value.id !== 'string' || typeof value.label !== 'string' || typeof value.state !== 'string') return null;
    out.push(value as MetaFile);
  }
  return out;
}

/** The shared store `tokentray store use` chose (store.json), or null for the keychain. */
function sharedStoreConfig(stateDir: string): { url: string; keyFile: string | null } | null {
  let text: string;
  try {
    text = readFileSync(join(stateDir, 'store.json'), 'utf8');
  } catch {
    return null;
  }
  const v = JSON.parse(text) as { kind?: unknown; url?: unknown; keyFile?: unknown };
  if (v.kind === 'local') return null;
  if (v.kind !== 'postgres' || typeof v.url !== 'string') throw new Error('store.json: the full CLI explains');
  return { url: v.url, keyFile: typeof v.keyFile === 'string' ? v.keyFile : null };
}

async function tryFast(argv: string[]): Promise<boolean> {
  // Windows splits large keychain items into chunks; that reader lives in the full CLI.
  if (process.platform === 'win32') return false;
  const args = parseArgs(argv);
  if (!args) return false;
  const shared = sharedStoreConfig(resolveStateDir());
  const all = readMeta(join(resolveStateDir(), 'accounts'));
  if (!all) return false;
  const byId = all.find((m) => m.id === args.ref);
  const byLabel = all.filter((m) => m.label === args.ref);
  const meta = byId ?? (byLabel.length === 1 ? byLabel[0] : undefined);
  // Another process holds rotated tokens the keychain refused: the full CLI explains.
  if (!meta || meta.state !== 'ok' || (meta.unsavedRotation !== undefined && meta.unsavedRotation !== null))
    return false;
  if (shared !== null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { sharedFreshToken } = require('./tokentray-shared.cjs') as typeof import('./shared-token');
    const line = await sharedFreshToken(shared, meta.id, args.minValid, args.header);
    if (line === null) return false;
    process.stdout.write(line);
    return true;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const keytar = require('keytar') as typeof import('keytar');
  const raw = await keytar.getPassword(keychainServiceName(), `account:${meta.id}`);
  if (raw === null) return false;
  const line = freshTokenLine(raw, args.minValid, args.header, Date.now());
  if (line === null) return false;
  process.stdout.write(line);
  return true;
}

function full(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./tokentray-main.cjs');
}

tryFast(process.argv.slice(2)).then(
  (done) => {
    if (!done) full();
  },
  // Whatever went wrong here (no state yet, a damaged file, a locked keychain), the full CLI says it properly.
  () => full(),
);
