import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { TokentrayError, safeDetail } from '../errors';
import { lockWaitMs } from '../refresh/account-lock';
import type { AccountLocks } from '../refresh/account-locks';
import type { SecretStore } from '../vault/secret-store';
import { open, rowIdFor, seal, wrongKeyError } from './envelope';
import { KEY_CHECK_AAD } from './key-check';
import { CHANGE_CHANNEL, SCHEMA } from './migrations';

/**
 * The shared backend: a SecretStore and its account lock on PostgreSQL.
 *
 * Every item is sealed on this machine (envelope.ts) with the item's name and
 * version as associated data; the database holds row ids it cannot reverse and
 * ciphertext it cannot read. The account lock is a transaction holding a
 * transaction-scoped advisory lock on the account's row: PostgreSQL releases it
 * when the holder commits or its connection dies, never while a merely slow
 * holder lives, so no machine spends a refresh token another is spending.
 * Writes made under the lock go through that transaction; writes outside it
 * are compare-and-set on the version this process last read.
 */

export interface SharedStoreOptions {
  url: string;
  key: Buffer;
  /** This machine's keychain: holds the last access token seen (never a refresh token) for offline use. */
  cache: SecretStore;
  now?: () => number;
}

function makePool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 16,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 2_000,
    allowExitOnIdle: true,
  });
  // An idle connection the server dropped: the next query reconnects; never crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export interface SharedFeedHandlers {
  onAccount(accountId: string): void;
  onReachable(reachable: boolean): void;
}

interface LockContext {
  rowId: string;
  client: pg.PoolClient;
  alive: boolean;
  writes: Array<{ name: string; value: string; base: number | null }>;
}

interface Row {
  id: string;
  version: string;
  nonce: Buffer;
  box: Buffer;
}

const CACHE_PREFIX = 'shared-cache:';
/** After losing the database mid-refresh, how long the holder keeps trying to store what the provider issued. */
const DEFAULT_WRITE_WAIT_MS = 30_000;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
]);

export function isUnreachable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended/i.test(message);
}

export function unreachableError(error: unknown): TokentrayError {
  const e = error as { code?: unknown } | null;
  const reason = typeof e?.code === 'string' ? e.code : safeDetail((error as Error)?.message ?? '', 80);
  return new TokentrayError(
    'PROVIDER_UNAVAILABLE',
    `Shared store unreachable (${reason}); no token was spent. Try again when the database is back.`,
    { cause: error },
  );
}

/** An answer from PostgreSQL itself (missing table, missing grant, …): said plainly, with what to do. */
export function databaseError(error: unknown): unknown {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || isUnreachable(error)) return error;
  return new TokentrayError(
    'USAGE',
    `The shared store's database refused: ${safeDetail(e.message, 120)} (SQLSTATE ${e.code}). Run \`tokentray store use …\` again to migrate the schema, or check the role's grants (README, "Teams and servers").`,
    { cause: error },
  );
}

function busy(accountId: string, waitedMs: number): TokentrayError {
  return new TokentrayError(
    'PROVIDER_UNAVAILABLE',
    `Another Tokentray machine is refreshing ${accountId}; try again (waited ${Math.round(waitedMs / 1000)} s, no token was spent).`,
  );
}

function conflict(name: string): TokentrayError {
  return new TokentrayError(
    'PROVIDER_UNAVAILABLE',
    `Another machine changed ${name.replace(/^account:/, 'account ')} in the shared store at the same moment; nothing was overwritten. Run the command again.`,
  );
}

/** The row id (an HMAC of the account id or item name) and the version: a row cannot be moved or rolled back. */
const aad = (rowId: string, version: number): string => `tokentray:${rowId}:v${version}`;

export class SharedStore implements SecretStore, AccountLocks {
  readonly pool: pg.Pool;
  private readonly als = new AsyncLocalStorage<LockContext>();
  /** The version this process last read or wrote, per row: the base of every compare-and-set. */
  private readonly seen = new Map<string, number>();
  private readonly names = new Map<string, string>();
  private readonly cacheMemo = new Map<string, string>();
  private readonly now: () => number;
  private reachable: boolean | null = null;
  private keyChecked = false;

  constructor(
    private readonly o: SharedStoreOptions,
    pool?: pg.Pool,
  ) {
    this.now = o.now ?? Date.now;
    this.pool = pool ?? makePool(o.url);
  }

  /** Connects while the team key is still being read (a keychain round trip): a short-lived CLI run saves one. */
  static async opening(o: Omit<SharedStoreOptions, 'key'> & { key: Promise<Buffer> }): Promise<SharedStore> {
    const pool = makePool(o.url);
    const warm = pool.connect().then(
      (client) => client.release(),
      () => undefined,
    );
    try {
      const key = await o.key;
      await warm;
      return new SharedStore({ ...o, key }, pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  /** Null until the first round trip; false after the last one failed for want of a database. */
  get isReachable(): boolean | null {
    return this.reachable;
  }

  private rowId(name: string): string {
    const id = rowIdFor(this.o.key, name);
    this.names.set(id, name);
    return id;
  }

  private ctxFor(rowId: string): LockContext | undefined {
    const ctx = this.als.getStore();
    return ctx && ctx.rowId === rowId && ctx.alive ? ctx : undefined;
  }

  private async run<T>(
    q: Pick<pg.Pool, 'query'>,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    try {
      const r = await q.query<T & pg.QueryResultRow>(text, values);
      this.reachable = true;
      return r;
    } catch (error) {
      if (isUnreachable(error)) this.reachable = false;
      throw databaseError(error);
    }
  }

  /** Opens a row; its name comes from inside the ciphertext and must hash to the row's id. */
  private decode(row: Row): { name: string; value: string } {
    const plain = JSON.parse(
      open(this.o.key, { nonce: row.nonce, box: row.box }, aad(row.id, Number(row.version))),
    ) as {
      k?: unknown;
      v?: unknown;
    };
    if (typeof plain.k !== 'string' || typeof plain.v !== 'string' || this.rowId(plain.k) !== row.id)
      throw wrongKeyError();
    return { name: plain.k, value: plain.v };
  }

  async get(name: string): Promise<string | null> {
    const rowId = this.rowId(name);
    const ctx = this.ctxFor(rowId);
    // The offline copy is compared after every read: fetch it while the database answers.
    const cacheKey = CACHE_PREFIX + name;
    if (name.startsWith('account:') && !this.cacheMemo.has(cacheKey)) this.prefetchCache(cacheKey);
    let row: Row | undefined;
    try {
      row = (
        await this.run<Row>(
          ctx?.client ?? this.pool,
          `SELECT id, version, nonce, box FROM ${SCHEMA}.items WHERE id = $1`,
          [rowId],
        )
      ).rows[0];
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      if (ctx) ctx.alive = false;
      return this.offlineRead(name, error);
    }
    if (row === undefined) {
      this.seen.delete(rowId);
      await this.assertKeyStillCurrent(ctx?.client ?? this.pool);
      return null;
    }
    const { value } = this.decode(row);
    this.seen.set(rowId, Number(row.version));
    await this.cacheLocally(name, value);
    return value;
  }

  /** A miss may mean the key was rotated elsewhere (every row id changed): say so rather than "not found". */
  private async assertKeyStillCurrent(q: Pick<pg.Pool, 'query'>): Promise<void> {
    if (this.keyChecked) return;
    const row = (
      await this.run<{ nonce: Buffer; box: Buffer }>(q, `SELECT nonce, box FROM ${SCHEMA}.key_check WHERE id = 1`, [])
    ).rows[0];
    if (row) open(this.o.key, row, KEY_CHECK_AAD);
    this.keyChecked = true;
  }

  async set(name: string, value: string): Promise<void> {
    const rowId = this.rowId(name);
    const ctx = this.ctxFor(rowId);
    const base = this.seen.get(rowId) ?? null;
    if (ctx) {
      try {
        await this.compareAndSet(ctx.client, name, rowId, value, base);
        ctx.writes.push({ name, value, base });
        await this.cacheLocally(name, value);
        return;
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        // The lock's connection is gone; what the provider issued must still be stored.
        ctx.alive = false;
      }
    }
    const held = this.als.getStore()?.rowId === rowId;
    await this.writeOutside(name, value, base, held ? writeWaitMs() : 0);
  }

  async delete(name: string): Promise<boolean> {
    const rowId = this.rowId(name);
    const ctx = this.ctxFor(rowId);
    let deleted: boolean;
    try {
      deleted =
        (await this.run(ctx?.client ?? this.pool, `DELETE FROM ${SCHEMA}.items WHERE id = $1`, [rowId])).rowCount === 1;
    } catch (error) {
      throw isUnreachable(error) ? unreachableError(error) : error;
    }
    this.seen.delete(rowId);
    if (name.startsWith('account:')) await this.o.cache.delete(CACHE_PREFIX + name).catch(() => false);
    return deleted;
  }

  async keys(): Promise<string[]> {
    return (await this.entries()).map((e) => e.name);
  }

  /** Every item, decrypted: for push, pull and key rotation. */
  async entries(): Promise<Array<{ name: string; value: string }>> {
    let rows: Row[];
    try {
      rows = (await this.run<Row>(this.pool, `SELECT id, version, nonce, box FROM ${SCHEMA}.items ORDER BY id`, []))
        .rows;
    } catch (error) {
      throw isUnreachable(error) ? unreachableError(error) : error;
    }
    return rows.map((row) => {
      const entry = this.decode(row);
      this.seen.set(row.id, Number(row.version));
      return entry;
    });
  }

  /**
   * The account lock: a transaction holding an advisory lock on the account's row, waited for
   * up to lockWaitMs() (lock_timeout), then exit 4 with nothing spent. What `work` wrote is
   * committed even when `work` then failed: a rotated token is the account.
   */
  async withLock<T>(accountId: string, work: () => Promise<T>): Promise<T> {
    const rowId = this.rowId(`account:${accountId}`);
    const waitMs = lockWaitMs();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.reachable = false;
      throw unreachableError(error);
    }
    const began = this.now();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(waitMs))}`);
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [rowId]);
      this.reachable = true;
    } catch (error) {
      client.release(true);
      if ((error as { code?: unknown }).code === '55P03') throw busy(accountId, this.now() - began);
      if (isUnreachable(error)) {
        this.reachable = false;
        throw unreachableError(error);
      }
      throw databaseError(error);
    }
    const ctx: LockContext = { rowId, client, alive: true, writes: [] };
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await this.als.run(ctx, work) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    let committed = false;
    if (ctx.alive) {
      try {
        committed = (await client.query('COMMIT')).command === 'COMMIT';
      } catch {
        committed = false;
      }
    }
    client.release(!committed);
    if (!committed) {
      // The transaction is lost with its connection: store its writes again, by compare-and-set.
      for (const w of ctx.writes) await this.writeOutside(w.name, w.value, w.base, writeWaitMs());
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  private async compareAndSet(
    q: Pick<pg.Pool, 'query'>,
    name: string,
    rowId: string,
    value: string,
    known: number | null,
  ): Promise<void> {
    let base = known;
    if (base === null) {
      // Never read here (a new account, or a reconnect on this machine): replace what is there.
      const current = await this.run<{ version: string }>(q, `SELECT version FROM ${SCHEMA}.items WHERE id = $1`, [
        rowId,
      ]);
      base = current.rows[0] ? Number(current.rows[0].version) : null;
    }
    const next = (base ?? 0) + 1;
    const sealed = seal(this.o.key, JSON.stringify({ k: name, v: value }), aad(rowId, next));
    const r =
      base === null
        ? await this.run(
            q,
            `INSERT INTO ${SCHEMA}.items (id, version, nonce, box) VALUES ($1, 1, $2, $3) ON CONFLICT (id) DO NOTHING`,
            [rowId, sealed.nonce, sealed.box],
          )
        : await this.run(
            q,
            `UPDATE ${SCHEMA}.items SET version = $2, nonce = $3, box = $4, updated_at = now() WHERE id = $1 AND version = $5`,
            [rowId, next, sealed.nonce, sealed.box, base],
          );
    if (r.rowCount !== 1) throw conflict(name);
    this.seen.set(rowId, next);
  }

  private async writeOutside(name: string, value: string, base: number | null, patienceMs: number): Promise<void> {
    const rowId = this.rowId(name);
    const began = this.now();
    for (;;) {
      try {
        await this.compareAndSet(this.pool, name, rowId, value, base);
        await this.cacheLocally(name, value);
        return;
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        if (this.now() - began >= patienceMs) {
          throw new TokentrayError(
            'KEYCHAIN_UNAVAILABLE',
            `The shared store is unreachable, so ${name.replace(/^account:/, 'account ')} could not be stored there (shared store unreachable).`,
            { cause: error },
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private readonly cacheReads = new Map<string, Promise<string>>();

  private prefetchCache(cacheKey: string): void {
    if (!this.cacheReads.has(cacheKey)) {
      this.cacheReads.set(
        cacheKey,
        this.o.cache.get(cacheKey).then(
          (v) => v ?? '',
          () => '',
        ),
      );
    }
  }

  /** The access token (never the refresh token) in this machine's keychain, for when the database is away. */
  private async cacheLocally(name: string, value: string): Promise<void> {
    if (!name.startsWith('account:')) return;
    let cached: string;
    try {
      const parsed = JSON.parse(value) as { tokens?: Record<string, unknown> };
      if (!parsed.tokens) return;
      cached = JSON.stringify({ ...parsed, tokens: { ...parsed.tokens, refreshToken: null } });
    } catch {
      return;
    }
    const key = CACHE_PREFIX + name;
    if (!this.cacheMemo.has(key)) {
      this.prefetchCache(key);
      this.cacheMemo.set(key, await this.cacheReads.get(key)!);
    }
    if (this.cacheMemo.get(key) === cached) return;
    // Best effort: a locked keychain costs the offline copy, never the online answer.
    await this.o.cache.set(key, cached).then(
      () => this.cacheMemo.set(key, cached),
      () => undefined,
    );
  }

  private async offlineRead(name: string, error: unknown): Promise<string> {
    if (name.startsWith('account:')) {
      const cached = await this.o.cache.get(CACHE_PREFIX + name).catch(() => null);
      if (cached !== null) {
        try {
          const expiresAt = (JSON.parse(cached) as { tokens?: { expiresAt?: unknown } }).tokens?.expiresAt;
          if (typeof expiresAt === 'number' && expiresAt > this.now()) return cached;
        } catch {
          // A damaged cache entry is no answer; fall through.
        }
      }
    }
    throw unreachableError(error);
  }

  /**
   * Re-encrypts every item under `newKey` in one transaction. Each account's lock is taken
   * first, so no refresh is half-way while its row changes id; then old rows go, new rows
   * (new ids, next version, fresh nonces) come, and the key check is resealed.
   */
  async rotateTo(newKey: Buffer, reseal: (client: pg.PoolClient) => Promise<void>): Promise<number> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unreachableError(error);
    }
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, lockWaitMs())}`);
      const rows = (
        await client.query<Row>(`SELECT id, version, nonce, box FROM ${SCHEMA}.items ORDER BY id FOR UPDATE`)
      ).rows;
      const items = rows.map((row) => ({ ...this.decode(row), version: Number(row.version), id: row.id }));
      for (const item of items) {
        if (item.name.startsWith('account:'))
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [item.id]);
      }
      await client.query(`DELETE FROM ${SCHEMA}.items`);
      for (const item of items) {
        const id = rowIdFor(newKey, item.name);
        const version = item.version + 1;
        const sealed = seal(newKey, JSON.stringify({ k: item.name, v: item.value }), aad(id, version));
        await client.query(`INSERT INTO ${SCHEMA}.items (id, version, nonce, box) VALUES ($1, $2, $3, $4)`, [
          id,
          version,
          sealed.nonce,
          sealed.box,
        ]);
      }
      await reseal(client);
      await client.query('COMMIT');
      return items.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((error as { code?: unknown }).code === '55P03')
        throw new TokentrayError(
          'PROVIDER_UNAVAILABLE',
          'A refresh is under way on another machine; run rotate-key again in a minute. Nothing was changed.',
        );
      throw isUnreachable(error) ? unreachableError(error) : error;
    } finally {
      client.release();
    }
  }

  /** Which account a change notification is about (null for other items, or rows this key cannot read). */
  async accountForRow(rowId: string): Promise<string | null> {
    let name = this.names.get(rowId);
    if (name === undefined) {
      const row = (
        await this.run<Row>(this.pool, `SELECT id, version, nonce, box FROM ${SCHEMA}.items WHERE id = $1`, [
          rowId,
        ]).catch(() => null)
      )?.rows[0];
      if (!row) return null;
      try {
        name = this.decode(row).name;
      } catch {
        return null;
      }
    }
    return name.startsWith('account:') ? name.slice('account:'.length) : null;
  }

  /** LISTEN for changes any machine makes; reconnects while the database is away. Returns a stop function. */
  watch(handlers: SharedFeedHandlers): () => void {
    let stopped = false;
    let client: pg.Client | null = null;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        const c = new pg.Client({ connectionString: this.o.url, connectionTimeoutMillis: 5_000 });
        c.on('error', () => undefined);
        const ended = new Promise<void>((r) => c.once('end', () => r()));
        try {
          await c.connect();
          await c.query(`LISTEN ${CHANGE_CHANNEL}`);
        } catch {
          await c.end().catch(() => undefined);
          this.reachable = false;
          handlers.onReachable(false);
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        client = c;
        this.reachable = true;
        handlers.onReachable(true);
        c.on('notification', (n) => {
          if (n.payload === undefined) return;
          void this.accountForRow(n.payload).then((id) => {
            if (id !== null) handlers.onAccount(id);
          });
        });
        await ended;
        client = null;
        if (!stopped) {
          this.reachable = false;
          handlers.onReachable(false);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    };
    void loop();
    return () => {
      stopped = true;
      void client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

function writeWaitMs(): number {
  const raw = process.env['TOKENTRAY_STORE_WRITE_WAIT_MS'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_WRITE_WAIT_MS;
}
