import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorCodeSchema, refreshEventSchema, workspaceSchema } from '../../shared/models';
import { endpointPinSchema } from '../accounts/endpoint-pin';
import type { ProviderConfig } from '../providers/types';
import { CORRUPT, readJsonFile, writeFileAtomic } from './atomic-file';

/**
 * Non-secret account facts, one JSON file per account so that writers of
 * different accounts never contend and a damaged file costs one account's
 * metadata, never the others'. The keychain item stays the source of truth for
 * tokens and their expiry; this file can be rebuilt from it.
 */
export const accountMetaSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  provider: z.string(),
  subject: z.string(),
  label: z.string(),
  workspaces: z.array(workspaceSchema),
  extra: z.record(z.string(), z.string()),
  scopes: z.array(z.string()),
  issuedAt: z.number().nullable(),
  expiresAt: z.number().nullable(),
  lastRefreshAt: z.number().nullable(),
  connectedAt: z.number(),
  /** ok, or why the account cannot be used until the user acts. */
  state: z.enum(['ok', 'reconnect', 'error']),
  stateDetail: z.string().nullable(),
  lastErrorCode: errorCodeSchema.nullable(),
  fingerprint: z.string(),
  hasRefreshToken: z.boolean(),
  personal: z.boolean(),
  host: z.string().nullable(),
  refreshHistory: z.array(refreshEventSchema),
  /**
   * Set when a process refreshed this account (the provider rotated the refresh token)
   * but the keychain refused the new tokens: that process alone holds them, in memory.
   * Other processes must not spend the old refresh token; absent in files written before.
   */
  unsavedRotation: z
    .object({ pid: z.number(), host: z.string(), pstart: z.string().nullable(), since: z.number() })
    .nullable()
    .optional(),
  /**
   * Where this account's tokens may be sent (accounts/endpoint-pin.ts), fixed at connect.
   * Null for the demo, whose server no setting can move; absent in files written before pins
   * existed, which adopt one on first use (accounts/pinned-context.ts says when that is safe).
   */
  pin: endpointPinSchema.nullable().optional(),
});
export type AccountMeta = z.infer<typeof accountMetaSchema>;

export const providerConfigSchema = z.object({
  provider: z.string(),
  clientId: z.string(),
  redirectUri: z.string().nullable(),
  authorizeUrl: z.string().nullable(),
  tokenUrl: z.string().nullable(),
  apiUrl: z.string().nullable(),
  generic: z
    .object({
      name: z.string(),
      issuer: z.string(),
      authorizationEndpoint: z.string(),
      tokenEndpoint: z.string(),
      revocationEndpoint: z.string().nullable(),
      userinfoEndpoint: z.string().nullable(),
      tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']),
      scopes: z.array(z.string()),
      issParameterSupported: z.boolean(),
      idTokenSigningAlgs: z.array(z.string()).optional(),
      authMethodsSupported: z.array(z.string()).optional(),
      jwksUri: z.string().nullable().optional(),
    })
    .nullable(),
  hasClientSecret: z.boolean(),
  updatedAt: z.string(),
});

const SAFE_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export function assertSafeId(id: string): string {
  if (!SAFE_ID.test(id)) throw new Error(`unsafe id for a file name: ${JSON.stringify(id.slice(0, 40))}`);
  return id;
}

export class MetadataStore {
  readonly accountsDir: string;
  readonly providersDir: string;
  readonly locksDir: string;
  readonly cacheDir: string;

  constructor(readonly stateDir: string) {
    this.accountsDir = join(stateDir, 'accounts');
    this.providersDir = join(stateDir, 'providers');
    this.locksDir = join(stateDir, 'locks');
    this.cacheDir = join(stateDir, 'cache');
  }

  accountPath(id: string): string {
    return join(this.accountsDir, `${assertSafeId(id)}.json`);
  }

  /** Null when missing; 'corrupt' when the file exists but cannot be read as account metadata. */
  async readAccount(id: string): Promise<AccountMeta | null | 'corrupt'> {
    const raw = await readJsonFile(this.accountPath(id));
    if (raw === null) return null;
    if (raw === CORRUPT) return 'corrupt';
    const parsed = accountMetaSchema.safeParse(raw);
    return parsed.success ? parsed.data : 'corrupt';
  }

  async writeAccount(meta: AccountMeta): Promise<void> {
    await writeFileAtomic(this.accountPath(meta.id), `${JSON.stringify(meta, null, 2)}\n`);
  }

  async deleteAccount(id: string): Promise<void> {
    await fs.rm(this.accountPath(id), { force: true });
  }

  private connectingPath(id: string): string {
    return join(this.accountsDir, `.${assertSafeId(id)}.connecting`);
  }

  /**
   * A new account's keychain item is written before its metadata file; this marker, written
   * first, is how listing (which never reads the keychain) finds an account whose metadata
   * write was cut short by a crash.
   */
  async markConnecting(id: string): Promise<void> {
    await fs.mkdir(this.accountsDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(this.connectingPath(id), '', { mode: 0o600 });
  }

  async clearConnecting(id: string): Promise<void> {
    await fs.rm(this.connectingPath(id), { force: true });
  }

  /** Accounts marked as being connected, with the marker's age in ms. */
  async connecting(now: number): Promise<Array<{ id: string; ageMs: number }>> {
    const names = await namesIn(this.accountsDir);
    const out: Array<{ id: string; ageMs: number }> = [];
    for (const name of names) {
      const id = /^\.(.+)\.connecting$/.exec(name)?.[1];
      if (id === undefined || !SAFE_ID.test(id)) continue;
      const stat = await fs.stat(join(this.accountsDir, name)).catch(() => null);
      if (stat) out.push({ id, ageMs: now - stat.mtimeMs });
    }
    return out;
  }

  /** Ids of every account file, including damaged ones (the caller decides how to show them). */
  async listAccountIds(): Promise<string[]> {
    const names = await namesIn(this.accountsDir);
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((id) => SAFE_ID.test(id))
      .sort();
  }

  private providerPath(provider: string): string {
    return join(this.providersDir, `${assertSafeId(provider)}.json`);
  }

  async readProvider(provider: string): Promise<ProviderConfig | null> {
    const raw = await readJsonFile(this.providerPath(provider));
    if (raw === null || raw === CORRUPT) return null;
    const parsed = providerConfigSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  }

  async writeProvider(config: ProviderConfig): Promise<void> {
    await writeFileAtomic(this.providerPath(config.provider), `${JSON.stringify(config, null, 2)}\n`);
  }

  async deleteProvider(provider: string): Promise<void> {
    await fs.rm(this.providerPath(provider), { force: true });
  }

  async listProviderConfigs(): Promise<ProviderConfig[]> {
    const names = await namesIn(this.providersDir);
    const out: ProviderConfig[] = [];
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
      const cfg = await this.readProvider(name.slice(0, -'.json'.length)).catch(() => null);
      if (cfg) out.push(cfg);
    }
    return out;
  }
}

/** A folder's entries; a folder not created yet (nothing stored so far) has none. */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
