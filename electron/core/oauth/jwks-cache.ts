import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { CORRUPT, readJsonFile, writeFileAtomic } from '../vault/atomic-file';

/** A provider's published signing keys (RFC 7517 §5), as fetched from its `jwks_uri`. */
export interface CachedJwks {
  jwks: { keys: Record<string, unknown>[] };
  /** ms epoch of the fetch. */
  fetchedAt: number;
}

/** Where fetched JWKS are kept between token answers. Public keys only: nothing here is a secret. */
export interface JwksStore {
  read(uri: string): Promise<CachedJwks | null>;
  write(uri: string, entry: CachedJwks): Promise<void>;
}

const entrySchema = z.object({
  uri: z.string(),
  fetchedAt: z.number(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
});

/**
 * One file per `jwks_uri` in the state folder's cache, so the tray app and every short-lived CLI
 * run share one copy: a `tokentray token` refresh does not fetch the keys again while they are
 * fresh, and a key rotation is noticed (an unknown `kid`) by whichever process meets it first.
 * Unreadable or foreign files count as absent; a failed write only costs a fetch next time.
 */
export class FileJwksStore implements JwksStore {
  constructor(private readonly dir: string) {}

  private pathFor(uri: string): string {
    return join(this.dir, `${createHash('sha256').update(uri).digest('hex').slice(0, 32)}.json`);
  }

  async read(uri: string): Promise<CachedJwks | null> {
    const raw = await readJsonFile(this.pathFor(uri)).catch(() => null);
    if (raw === null || raw === CORRUPT) return null;
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success || parsed.data.uri !== uri) return null;
    return { jwks: parsed.data.jwks, fetchedAt: parsed.data.fetchedAt };
  }

  async write(uri: string, entry: CachedJwks): Promise<void> {
    await writeFileAtomic(this.pathFor(uri), JSON.stringify({ uri, ...entry })).catch(() => undefined);
  }
}

/** Per process, for callers without a state folder (tests that build the exchange alone). */
export class MemoryJwksStore implements JwksStore {
  private readonly entries = new Map<string, CachedJwks>();

  read(uri: string): Promise<CachedJwks | null> {
    return Promise.resolve(this.entries.get(uri) ?? null);
  }

  write(uri: string, entry: CachedJwks): Promise<void> {
    this.entries.set(uri, structuredClone(entry));
    return Promise.resolve();
  }
}
