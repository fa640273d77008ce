import { TokentrayError } from '../../electron/core/errors';
import type { SecretStore } from '../../electron/core/vault/secret-store';

/** In-memory secret store for unit tests only; the product cannot select it (it lives under test/). */
export class MemorySecretStore implements SecretStore {
  readonly items = new Map<string, string>();
  /** Byte cap per item, like Windows Credential Manager's 2,560. */
  maxBytes = Infinity;
  /** Make the next N writes fail (a keychain that breaks half-way). */
  failWritesAfter: number | null = null;
  available = true;
  writes = 0;
  /** Refuse this many writes from now on, then accept again (a keychain locked for a while). */
  refuseNextWrites = 0;
  /** Every call as `get key`, `set key`, `delete key`, `keys`, for tests that count secret reads and writes. */
  readonly calls: string[] = [];

  private check(): void {
    if (!this.available)
      throw new TokentrayError('KEYCHAIN_UNAVAILABLE', 'The system keychain is unavailable (test store switched off).');
  }

  async get(key: string): Promise<string | null> {
    this.calls.push(`get ${key}`);
    this.check();
    return this.items.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    this.calls.push(`set ${key}`);
    this.check();
    if (this.refuseNextWrites > 0) {
      this.refuseNextWrites -= 1;
      throw new TokentrayError('KEYCHAIN_UNAVAILABLE', 'The system keychain refused to store a secret (test fault).');
    }
    if (this.failWritesAfter !== null && this.writes >= this.failWritesAfter) {
      throw new TokentrayError('KEYCHAIN_UNAVAILABLE', 'The system keychain refused to store a secret (test fault).');
    }
    if (Buffer.byteLength(value, 'utf8') > this.maxBytes) {
      throw new TokentrayError(
        'KEYCHAIN_UNAVAILABLE',
        `The system keychain refused an item of ${Buffer.byteLength(value, 'utf8')} bytes (limit ${this.maxBytes}).`,
      );
    }
    this.writes += 1;
    this.items.set(key, value);
  }

  async delete(key: string): Promise<boolean> {
    this.calls.push(`delete ${key}`);
    this.check();
    return this.items.delete(key);
  }

  async keys(): Promise<string[]> {
    this.calls.push('keys');
    this.check();
    return [...this.items.keys()];
  }
}
