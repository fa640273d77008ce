import type { PoolClient } from 'pg';
import { open, seal, wrongKeyError } from './envelope';
import { SCHEMA } from './migrations';

const KNOWN = 'tokentray team key check v1';
export const KEY_CHECK_AAD = 'tokentray:key-check';
const AAD = KEY_CHECK_AAD;

/**
 * Proves the team key is the store's before anything is written: the first
 * `store use` seals a known text, every later one must open it.
 */
export async function checkTeamKey(client: PoolClient, key: Buffer): Promise<'initialized' | 'matches'> {
  const sealed = seal(key, KNOWN, AAD);
  const inserted = await client.query(
    `INSERT INTO ${SCHEMA}.key_check (id, nonce, box) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
    [sealed.nonce, sealed.box],
  );
  if (inserted.rowCount === 1) return 'initialized';
  const row = (
    await client.query<{ nonce: Buffer; box: Buffer }>(`SELECT nonce, box FROM ${SCHEMA}.key_check WHERE id = 1`)
  ).rows[0];
  if (!row || open(key, row, AAD) !== KNOWN) throw wrongKeyError();
  return 'matches';
}

/** Replaces the check under a new key (key rotation, inside its transaction). */
export async function resealKeyCheck(client: PoolClient, key: Buffer): Promise<void> {
  const sealed = seal(key, KNOWN, AAD);
  await client.query(`UPDATE ${SCHEMA}.key_check SET nonce = $1, box = $2 WHERE id = 1`, [sealed.nonce, sealed.box]);
}
