import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { TokentrayError } from '../errors';
import { writeFileAtomic } from '../vault/atomic-file';
import type { SecretStore } from '../vault/secret-store';
import { open, rowIdFor, seal } from './envelope';

/** The folder under the state directory that holds the sealed items, one file each. */
export const FILE_STORE_DIR = 'secrets';
const KEY_CHECK_FILE = 'key-check.json';
const KEY_CHECK_TEXT = 'tokentray file store key check v1';
const KEY_CHECK_AAD = 'tokentray-file:key-check';
const ITEM_FILE = /^[0-9a-f]{40}\.json$/;

/** The item file's associated data: its id and version, so items cannot be swapped or rolled back undetected. */
const aad = (id: string, version: number): string => `tokentray-file:${id}:v${version}`;

interface SealedFile {
  version: number;
  nonce: string;
  box: string;
}

export function fileStoreDir(stateDir: string): string {
  return join(stateDir, FILE_STORE_DIR);
}

function unavailable(dir: string, action: string, error: unknown): TokentrayError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new TokentrayError(
    'KEYCHAIN_UNAVAILABLE',
    `The file store in ${dir} could not ${action}${code ? ` (${code})` : ''}; check that the folder exists, belongs to you and has free space.`,
    { cause: error },
  );
}

function damaged(): TokentrayError {
  return new TokentrayError(
    'KEYCHAIN_ITEM_MISSING',
    'A secret in the file store is damaged (it does not open under the store key); reconnect the account to store it again.',
  );
}

function parseSealed(text: string): SealedFile | null {
  try {
    const v = JSON.parse(text) as Partial<SealedFile>;
    if (typeof v.version !== 'number' || typeof v.nonce !== 'string' || typeof v.box !== 'string') return null;
    return v as SealedFile;
  } catch {
    return null;
  }
}

function sealedJson(key: Buffer, plaintext: string, aadText: string, version: number): string {
  const s = seal(key, plaintext, aadText);
  return `${JSON.stringify({ version, nonce: s.nonce.toString('base64'), box: s.box.toString('base64') })}\n`;
}

function openSealed(key: Buffer, file: SealedFile, aadText: string): string {
  return open(key, { nonce: Buffer.from(file.nonce, 'base64'), box: Buffer.from(file.box, 'base64') }, aadText);
}

/**
 * `tokentray store use file`: secrets sealed with the shared store's envelope (AES-256-GCM, a
 * fresh nonce per write, the item id and version as associated data), one 0600 file per item
 * under `<state>/secrets/` (0700), written atomically. File names are an HMAC of the item name
 * under the key, so the folder shows neither providers nor accounts. A key that does not open
 * the store's key check is refused before anything is read or written.
 */
export class FileSecretStore implements SecretStore {
  readonly dir: string;
  private ready: Promise<Buffer> | null = null;

  constructor(
    stateDir: string,
    private readonly key: Promise<Buffer>,
    /** Shown in the wrong-key message: where the key came from. */
    private readonly keyWhere: () => string,
  ) {
    this.dir = fileStoreDir(stateDir);
    // Unhandled until the first call asks for it: a command that never reads a secret needs no key.
    key.catch(() => undefined);
  }

  wrongKeyError(): TokentrayError {
    return new TokentrayError(
      'USAGE',
      `The key in ${this.keyWhere()} does not open the file store in ${this.dir} (it was set up with another key); point TOKENTRAY_STORE_KEY_FILE or \`tokentray store use file --key-file PATH\` at the key it was set up with. Nothing was changed.`,
    );
  }

  /** The key, once proved to be this store's (the key check is written when the store is new). */
  private keyChecked(): Promise<Buffer> {
    this.ready ??= this.check();
    return this.ready;
  }

  private async check(): Promise<Buffer> {
    const key = await this.key;
    const path = join(this.dir, KEY_CHECK_FILE);
    let text: string | null;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(this.dir, 'be read', error);
      text = null;
    }
    if (text === null) {
      if ((await this.itemFiles()).length > 0) throw this.wrongKeyError();
      await this.write(KEY_CHECK_FILE, sealedJson(key, KEY_CHECK_TEXT, KEY_CHECK_AAD, 1));
      return key;
    }
    const sealed = parseSealed(text);
    let opened: string | null = null;
    try {
      opened = sealed === null ? null : openSealed(key, sealed, KEY_CHECK_AAD);
    } catch {
      opened = null;
    }
    if (opened !== KEY_CHECK_TEXT) throw this.wrongKeyError();
    return key;
  }

  /** Proves the key opens this store (creating it when new); throws the wrong-key error otherwise. */
  async verify(): Promise<void> {
    await this.keyChecked();
  }

  private async itemFiles(): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter((n) => ITEM_FILE.test(n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw unavailable(this.dir, 'be listed', error);
    }
  }

  private async write(name: string, content: string): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(join(this.dir, name), content);
    } catch (error) {
      throw unavailable(this.dir, 'store a secret', error);
    }
  }

  private async readSealed(name: string): Promise<SealedFile | null> {
    let text: string;
    try {
      text = await fs.readFile(join(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unavailable(this.dir, 'read a secret', error);
    }
    const sealed = parseSealed(text);
    if (sealed === null) throw damaged();
    return sealed;
  }

  private decode(key: Buffer, id: string, sealed: SealedFile): { k: string; v: string } {
    let item: { k?: unknown; v?: unknown };
    try {
      item = JSON.parse(openSealed(key, sealed, aad(id, sealed.version))) as typeof item;
    } catch {
      throw damaged();
    }
    if (typeof item.k !== 'string' || typeof item.v !== 'string') throw damaged();
    return { k: item.k, v: item.v };
  }

  async get(name: string): Promise<string | null> {
    const key = await this.keyChecked();
    const id = rowIdFor(key, name);
    const sealed = await this.readSealed(`${id}.json`);
    if (sealed === null) return null;
    const item = this.decode(key, id, sealed);
    if (item.k !== name) throw damaged();
    return item.v;
  }

  async set(name: string, value: string): Promise<void> {
    const key = await this.keyChecked();
    const id = rowIdFor(key, name);
    // Writers of one item hold its account lock; the version only has to grow, for the AAD.
    const previous = await this.readSealed(`${id}.json`).catch(() => null);
    const version = (previous?.version ?? 0) + 1;
    await this.write(`${id}.json`, sealedJson(key, JSON.stringify({ k: name, v: value }), aad(id, version), version));
  }

  async delete(name: string): Promise<boolean> {
    const key = await this.keyChecked();
    const path = join(this.dir, `${rowIdFor(key, name)}.json`);
    try {
      await fs.rm(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw unavailable(this.dir, 'delete a secret', error);
    }
    return true;
  }

  async keys(): Promise<string[]> {
    return (await this.entries()).map((e) => e.name);
  }

  /** Every item, opened; what `store use local` and `store push` move. */
  async entries(): Promise<Array<{ name: string; value: string }>> {
    const key = await this.keyChecked();
    const out: Array<{ name: string; value: string }> = [];
    for (const file of (await this.itemFiles()).sort()) {
      const sealed = await this.readSealed(file);
      if (sealed === null) continue;
      const item = this.decode(key, file.slice(0, -'.json'.length), sealed);
      out.push({ name: item.k, value: item.v });
    }
    return out;
  }

  /** True when the folder holds a store (a key check or items). */
  async exists(): Promise<boolean> {
    try {
      await fs.access(join(this.dir, KEY_CHECK_FILE));
      return true;
    } catch {
      return (await this.itemFiles()).length > 0;
    }
  }
}
