/**
 * `tokentray token` on a shared store, for a token that is fresh as it is: one
 * round trip to PostgreSQL through the same SharedStore the full CLI uses
 * (offline cache included), without loading the full CLI. Built as its own
 * file so the keychain-only fast path never loads the PostgreSQL driver.
 * Anything else (a refresh, an error) is for the full CLI: this returns null; otherwise the line to print.
 */
import { keychainServiceName } from '../core/paths';
import { SharedStore } from '../core/store/shared-store';
import { resolveTeamKey } from '../core/store/team-key';
import { KeytarSecretStore } from '../core/vault/keytar-store';
import { freshTokenLine } from './stored-token';

export async function sharedFreshToken(
  config: { url: string; keyFile: string | null },
  accountId: string,
  minValidSeconds: number,
  header: boolean,
): Promise<string | null> {
  const keychain = new KeytarSecretStore(keychainServiceName());
  const store = new SharedStore({
    url: config.url,
    key: await resolveTeamKey(config.keyFile, keychain),
    cache: keychain,
  });
  let raw: string | null;
  try {
    raw = await store.get(`account:${accountId}`);
  } finally {
    // Not awaited: the token is printed while the connection closes; the process exits after both.
    void store.close();
  }
  return raw === null ? null : freshTokenLine(raw, minValidSeconds, header, Date.now());
}
