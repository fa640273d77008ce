import type { PoolClient } from 'pg';

/** Everything lives in this schema; the README's role owns it and nothing else. */
export const SCHEMA = 'tokentray';
export const CHANGE_CHANNEL = 'tokentray_changes';

/**
 * Versioned, applied in order by `tokentray store use`, each exactly once
 * (schema_migrations records them). Append, never edit a shipped entry.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE ${SCHEMA}.items (
        -- HMAC of the item's name under the team key: the database never sees account ids or providers.
        id text PRIMARY KEY,
        version bigint NOT NULL CHECK (version > 0),
        nonce bytea NOT NULL,
        box bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- A known plaintext sealed with the team key, so a wrong key is caught before anything is written.
      CREATE TABLE ${SCHEMA}.key_check (
        id int PRIMARY KEY CHECK (id = 1),
        nonce bytea NOT NULL,
        box bytea NOT NULL
      );
      CREATE FUNCTION ${SCHEMA}.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${CHANGE_CHANNEL}', COALESCE(NEW.id, OLD.id));
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER items_changed AFTER INSERT OR UPDATE OR DELETE ON ${SCHEMA}.items
        FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.notify_change();
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the schema up to date; safe to run from several machines at once (the table lock serialises them). */
export async function migrate(client: PoolClient): Promise<{ from: number; to: number }> {
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [SCHEMA]);
  // An administrator usually creates the schema for a role that may not create schemas (README).
  if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(`LOCK TABLE ${SCHEMA}.schema_migrations IN EXCLUSIVE MODE`);
    const done = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`);
    const from = done.rows[0]?.v ?? 0;
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version) VALUES ($1)`, [m.version]);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, LATEST_SCHEMA_VERSION) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function schemaVersion(client: Pick<PoolClient, 'query'>): Promise<number> {
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`);
  return r.rows[0]?.v ?? 0;
}
