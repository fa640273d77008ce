import { join } from 'node:path';
import { TokentrayError } from '../errors';
import type { SecretStore } from '../vault/secret-store';
import { fileStoreDir, FileSecretStore } from '../store/file-store';
import { fileStoreKeySource, resolveFileStoreKey } from '../store/file-store-key';
import { readStoreConfig, redactUrl, type StoreConfig } from '../store/store-config';
import type { DoctorReport } from './doctor-report';
import type { KeychainProbe } from './keychain-probe';

export interface StoreCheck {
  report: DoctorReport['store'];
  /** Item names the store holds (never values); null when it could not be listed. */
  names: string[] | null;
  /** 5 when the store cannot give out secrets, 4 when the shared store does not answer; null when it answers. */
  failure: 4 | 5 | null;
}

const messageOf = (error: unknown): string =>
  error instanceof TokentrayError
    ? error.message
    : 'it failed in a way Tokentray did not expect (TOKENTRAY_DEBUG=1 tells more)';

const accountCount = (names: string[]): number => names.filter((n) => n.startsWith('account:')).length;

/** A keychain that is known to be absent or locked: refuses at once instead of asking D-Bus again. */
export function refusingKeychain(probe: KeychainProbe): SecretStore {
  const refuse = (): Promise<never> =>
    Promise.reject(
      new TokentrayError(
        'KEYCHAIN_UNAVAILABLE',
        `The system keychain is ${probe.state}${probe.detail ? ` (${probe.detail})` : ''}.`,
      ),
    );
  return { get: refuse, set: refuse, delete: refuse, keys: refuse };
}

function checkLocal(probe: KeychainProbe): StoreCheck {
  const answers = probe.state === 'ok';
  return {
    report: {
      kind: 'local',
      where: null,
      key: null,
      answers,
      accounts: probe.names === null ? null : accountCount(probe.names),
      schemaVersion: null,
      detail: answers ? null : `the keychain is ${probe.state}${probe.detail ? `: ${probe.detail}` : ''}`,
    },
    names: probe.names,
    failure: answers ? null : 5,
  };
}

/** Opens the file store's key check without writing: a store not set up yet is reported empty, not created. */
async function checkFile(stateDir: string, config: Extract<StoreConfig, { kind: 'file' }>): Promise<StoreCheck> {
  const source = fileStoreKeySource(config.keyFile);
  const base = {
    kind: 'file' as const,
    where: fileStoreDir(stateDir),
    key: source === null ? null : { path: source.path, from: source.from },
    schemaVersion: null,
  };
  try {
    const { key } = await resolveFileStoreKey(config.keyFile);
    const files = new FileSecretStore(stateDir, Promise.resolve(key), () => source?.path ?? 'no key file');
    if (!(await files.exists()))
      return {
        report: { ...base, answers: true, accounts: 0, detail: 'empty; created on the first write' },
        names: [],
        failure: null,
      };
    const names = await files.keys();
    return { report: { ...base, answers: true, accounts: accountCount(names), detail: null }, names, failure: null };
  } catch (error) {
    return { report: { ...base, answers: false, accounts: null, detail: messageOf(error) }, names: null, failure: 5 };
  }
}

/** Where the team key comes from, in resolveTeamKey's order (the keychain's copy is not a file). */
function teamKeySource(keyFile: string | null, probe: KeychainProbe): { path: string; from: string } | null {
  const fromEnv = process.env['TOKENTRAY_STORE_KEY_FILE']?.trim();
  if (fromEnv) return { path: fromEnv, from: 'TOKENTRAY_STORE_KEY_FILE' };
  if (probe.names?.includes('store-team-key')) return { path: 'the keychain', from: 'keychain' };
  if (keyFile !== null) return { path: keyFile, from: '--key-file' };
  const credentials = process.env['CREDENTIALS_DIRECTORY']?.trim();
  if (credentials) return { path: join(credentials, 'tokentray.key'), from: 'CREDENTIALS_DIRECTORY' };
  return null;
}

/** Connects (5 s at most), reads the schema version, proves the team key on the key check, lists the items. */
async function checkShared(
  config: Extract<StoreConfig, { kind: 'postgres' }>,
  keychain: SecretStore,
  probe: KeychainProbe,
): Promise<StoreCheck> {
  const base = { kind: 'postgres' as const, where: redactUrl(config.url), key: teamKeySource(config.keyFile, probe) };
  const [{ SharedStore, isUnreachable, unreachableError }, { resolveTeamKey }, { schemaVersion, SCHEMA }, envelope] =
    await Promise.all([
      import('../store/shared-store'),
      import('../store/team-key'),
      import('../store/migrations'),
      import('../store/envelope'),
    ]);
  let key: Buffer;
  try {
    key = await resolveTeamKey(config.keyFile, keychain);
  } catch (error) {
    return {
      report: { ...base, answers: false, accounts: null, schemaVersion: null, detail: messageOf(error) },
      names: null,
      failure: 5,
    };
  }
  const store = new SharedStore({ url: config.url, key, cache: keychain });
  let version: number | null = null;
  try {
    const client = await store.pool.connect();
    try {
      version = await schemaVersion(client);
      const row = (
        await client.query<{ nonce: Buffer; box: Buffer }>(`SELECT nonce, box FROM ${SCHEMA}.key_check WHERE id = 1`)
      ).rows[0];
      if (!row)
        throw new TokentrayError('USAGE', 'The shared store is not set up yet; run `tokentray store use …` again.');
      const { KEY_CHECK_AAD } = await import('../store/key-check');
      envelope.open(key, row, KEY_CHECK_AAD);
    } finally {
      client.release();
    }
    const names = await store.keys();
    return {
      report: { ...base, answers: true, accounts: accountCount(names), schemaVersion: version, detail: null },
      names,
      failure: null,
    };
  } catch (error) {
    const unreachable =
      isUnreachable(error) || (error instanceof TokentrayError && error.code === 'PROVIDER_UNAVAILABLE');
    const detail = unreachable
      ? (error instanceof TokentrayError ? error : unreachableError(error)).message
      : error instanceof TokentrayError
        ? error.message
        : `the database refused: ${(error as { code?: string }).code ?? 'unknown error'}`;
    return {
      report: { ...base, answers: false, accounts: null, schemaVersion: version, detail },
      names: null,
      failure: unreachable ? 4 : 5,
    };
  } finally {
    await store.close();
  }
}

/** The store in use (store.json), and whether it answers; never changes it. */
export async function checkStore(stateDir: string, probe: KeychainProbe, keychain: SecretStore): Promise<StoreCheck> {
  let config: StoreConfig;
  try {
    config = readStoreConfig(stateDir);
  } catch (error) {
    return {
      report: {
        kind: 'local',
        where: null,
        key: null,
        answers: false,
        accounts: null,
        schemaVersion: null,
        detail: messageOf(error),
      },
      names: null,
      failure: 5,
    };
  }
  if (config.kind === 'file') return checkFile(stateDir, config);
  if (config.kind === 'postgres') return checkShared(config, keychain, probe);
  return checkLocal(probe);
}
