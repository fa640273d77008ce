import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { TokentrayError } from '../errors';

/** AES-256-GCM: a 32-byte team key, a fresh 12-byte nonce per write, a 16-byte tag. */
export const TEAM_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  nonce: Buffer;
  /** Ciphertext followed by the GCM tag. */
  box: Buffer;
}

/**
 * Encrypts on this machine, before anything reaches the database. The
 * associated data binds a ciphertext to its row and version, so the database
 * operator cannot swap rows or roll one back to an older version undetected.
 */
export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const box = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { nonce, box };
}

export function wrongKeyError(): TokentrayError {
  return new TokentrayError(
    'USAGE',
    'The team key does not open the shared store (a different key, or a rotated one); get the current key file from whoever set the store up and run `tokentray store use … --key-file PATH` again. Nothing was changed.',
  );
}

/** Decrypts, or throws a clear "wrong team key" error when the key, the row or its version do not match. */
export function open(key: Buffer, sealed: Sealed, aad: string): string {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.box.length < TAG_BYTES) throw wrongKeyError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.box.subarray(sealed.box.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.box.subarray(0, sealed.box.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw wrongKeyError();
  }
}

/**
 * The row id for an item: an HMAC of its name under the team key, so the
 * database sees neither provider names nor account subjects.
 */
export function rowIdFor(key: Buffer, itemName: string): string {
  return createHmac('sha256', key).update(`tokentray-item:${itemName}`).digest('hex').slice(0, 40);
}
