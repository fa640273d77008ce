import { createHash, randomBytes } from 'node:crypto';
import { TokentrayError } from '../errors';
import type { SecretStore } from './secret-store';

/** Windows Credential Manager refuses blobs over 5 * 512 bytes. */
export const WINDOWS_SECRET_LIMIT_BYTES = 2560;

const MANIFEST_PREFIX = 'tokentray-chunks:v1:';

interface Manifest {
  generation: string;
  count: number;
  sha256: string;
}

function splitByBytes(value: string, maxBytes: number): string[] {
  const chunks: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const ch of value) {
    const bytes = Buffer.byteLength(ch, 'utf8');
    if (currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = '';
      currentBytes = 0;
    }
    current += ch;
    currentBytes += bytes;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

const sha = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 32);

function parseManifest(value: string): Manifest | null {
  if (!value.startsWith(MANIFEST_PREFIX)) return null;
  const [generation, count, sha256] = value.slice(MANIFEST_PREFIX.length).split(':');
  if (!generation || !count || !sha256 || !/^\d+$/.test(count)) return null;
  return { generation, count: Number(count), sha256 };
}

/**
 * Splits values too large for the underlying keychain into numbered items.
 * Chunks are written under a fresh generation first and the manifest last, so
 * a crash mid-write leaves the previous value readable; old chunks are removed
 * only after the manifest points at the new ones.
 */
export class ChunkedSecretStore implements SecretStore {
  constructor(
    private readonly inner: SecretStore,
    private readonly maxBytes: number,
  ) {}

  get lockScope(): string | undefined {
    return this.inner.lockScope;
  }

  private chunkKey(key: string, generation: string, index: number): string {
    return `${key}#${generation}#${index}`;
  }

  async get(key: string): Promise<string | null> {
    const head = await this.inner.get(key);
    if (head === null) return null;
    const manifest = parseManifest(head);
    if (!manifest) return head;
    const parts: string[] = [];
    for (let i = 0; i < manifest.count; i += 1) {
      const part = await this.inner.get(this.chunkKey(key, manifest.generation, i));
      if (part === null) {
        throw new TokentrayError(
          'KEYCHAIN_ITEM_MISSING',
          `Part of a stored secret is missing from the keychain (item ${i + 1} of ${manifest.count}); reconnect the account to store it again.`,
        );
      }
      parts.push(part);
    }
    const value = parts.join('');
    if (sha(value) !== manifest.sha256) {
      throw new TokentrayError(
        'KEYCHAIN_ITEM_MISSING',
        'A stored secret in the keychain is damaged (its parts do not match); reconnect the account to store it again.',
      );
    }
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    const previous = await this.inner.get(key);
    const oldManifest = previous === null ? null : parseManifest(previous);
    if (Buffer.byteLength(value, 'utf8') <= this.maxBytes && !value.startsWith(MANIFEST_PREFIX)) {
      await this.inner.set(key, value);
    } else {
      const generation = randomBytes(4).toString('hex');
      const parts = splitByBytes(value, this.maxBytes);
      for (const [i, part] of parts.entries()) await this.inner.set(this.chunkKey(key, generation, i), part);
      await this.inner.set(key, `${MANIFEST_PREFIX}${generation}:${parts.length}:${sha(value)}`);
    }
    if (oldManifest) await this.deleteChunks(key, oldManifest);
  }

  async delete(key: string): Promise<boolean> {
    const head = await this.inner.get(key);
    if (head === null) return false;
    const manifest = parseManifest(head);
    const deleted = await this.inner.delete(key);
    if (manifest) await this.deleteChunks(key, manifest);
    return deleted;
  }

  async keys(): Promise<string[]> {
    return (await this.inner.keys()).filter((k) => !/#[0-9a-f]{8}#\d+$/.test(k));
  }

  private async deleteChunks(key: string, manifest: Manifest): Promise<void> {
    for (let i = 0; i < manifest.count; i += 1) await this.inner.delete(this.chunkKey(key, manifest.generation, i));
  }
}
