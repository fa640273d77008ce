// A throwaway PostgreSQL cluster for the shared-store tests: Debian's server binaries
// (/usr/lib/postgresql/<version>/bin, the `postgresql` package that .ci/run installs),
// initdb in a temp dir, pg_ctl on a free loopback port, removed afterwards. PostgreSQL
// refuses to run as root, so as root every server command runs as the `postgres` user.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

export interface TestPostgres {
  port: number;
  /** The minimal role the README documents (owns schema `tokentray`, nothing else). */
  url: string;
  adminUrl: string;
  stop(): void;
  start(): void;
  remove(): void;
}

/** The newest installed server's bin directory; null when none is installed. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

/** Off Linux the suite skips; on Linux missing binaries are a CI set-up error, said plainly. */
export function postgresAvailable(): boolean {
  if (postgresBinDir() !== null) return true;
  if (process.platform !== 'linux') return false;
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install the `postgresql` package (.ci/run does) to run the shared-store tests.',
  );
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(bin: string, args: string[]): void {
  const cmd = asRoot ? 'runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === null) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin.');
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = (): void =>
    run(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  const stop = (): void => run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // The README's minimal role, verbatim in spirit: a login, one database to connect to, its own schema.
  await admin.query('CREATE ROLE tokentray LOGIN');
  await admin.query('CREATE DATABASE tokentray');
  await admin.end();
  const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/tokentray` });
  await db.connect();
  await db.query('REVOKE ALL ON DATABASE tokentray FROM PUBLIC');
  await db.query('GRANT CONNECT ON DATABASE tokentray TO tokentray');
  await db.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
  await db.query('CREATE SCHEMA tokentray AUTHORIZATION tokentray');
  await db.end();
  let running = true;
  return {
    port,
    url: `postgres://tokentray@127.0.0.1:${port}/tokentray?sslmode=disable`,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/tokentray`,
    stop: () => {
      if (running) stop();
      running = false;
    },
    start: () => {
      if (!running) start();
      running = true;
    },
    remove: () => {
      try {
        if (running) stop();
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
