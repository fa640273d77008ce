import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { endpointPinSchema } from '../accounts/endpoint-pin';
import { TokentrayError } from '../errors';
import type { StoredTokens } from '../providers/types';
import type { SecretStore } from './secret-store';

const storedTokensSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().nullable(),
  tokenType: z.string().nullable(),
  expiresAt: z.number().nullable(),
  issuedAt: z.number(),
  host: z.string().nullable(),
  personal: z.boolean(),
});

/**
 * One keychain item per account holds everything secret about it, plus the
 * few facts needed to rebuild its metadata file, so access and refresh token
 * always change together and a lost metadata file loses nothing.
 */
const accountSecretSchema = z.object({
  v: z.literal(1),
  provider: z.string(),
  subject: z.string(),
  tokens: storedTokensSchema,
});
export type AccountSecret = z.infer<typeof accountSecretSchema>;

const pendingSchema = z.object({
  attemptId: z.string(),
  provider: z.string(),
  state: z.string(),
  codeVerifier: z.string().nullable(),
  /** The OpenID nonce sent with this sign-in; absent in sign-ins saved before it was sent. */
  nonce: z.string().nullable().optional(),
  redirectUri: z.string(),
  label: z.string().nullable(),
  expiresAt: z.number(),
  /**
   * The endpoints in force when the sign-in started: the code (and, for a confidential client,
   * the secret) is redeemed only there. Absent in sign-ins started before pins existed.
   */
  pin: endpointPinSchema.nullable().optional(),
});
export type PendingConnect = z.infer<typeof pendingSchema>;

export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

const accountKey = (id: string): string => `account:${id}`;
const clientKey = (provider: string): string => `client-secret:${provider}`;
/** Where versions before issue 20 kept a provider's one pending sign-in (still read, so an upgrade loses none). */
const legacyPendingKey = (provider: string): string => `pending-connect:${provider}`;

/**
 * This installation among those sharing one store: the host and the state directory, hashed (the
 * key is all the store sees). On a shared store every machine used to write the same pending
 * sign-in item per provider, so one machine's sign-in overwrote another's.
 */
export function installationId(stateDir: string): string {
  return createHash('sha256').update(`${hostname()}\0${stateDir}`).digest('hex').slice(0, 16);
}

export class Vault {
  /** `installation` keys pending sign-ins per machine (installationId); one store, many machines. */
  constructor(
    readonly store: SecretStore,
    private readonly installation: string = installationId(''),
  ) {}

  private pendingKey(provider: string): string {
    return `pending-connect:${provider}:${this.installation}`;
  }

  async readAccount(id: string): Promise<AccountSecret | null> {
    const raw = await this.store.get(accountKey(id));
    if (raw === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = null;
    }
    const result = accountSecretSchema.safeParse(parsed);
    if (!result.success) {
      throw new TokentrayError(
        'KEYCHAIN_ITEM_MISSING',
        `The keychain item for account "${id}" is damaged; disconnect and reconnect the account.`,
      );
    }
    return result.data;
  }

  async writeAccount(id: string, secret: AccountSecret): Promise<void> {
    await this.store.set(accountKey(id), JSON.stringify(secret));
  }

  async deleteAccount(id: string): Promise<void> {
    await this.store.delete(accountKey(id));
  }

  /** Account ids that have a keychain item (to recover accounts whose metadata file is gone). */
  async accountIds(): Promise<string[]> {
    return (await this.store.keys()).filter((k) => k.startsWith('account:')).map((k) => k.slice('account:'.length));
  }

  async readClientSecret(provider: string): Promise<string | null> {
    return this.store.get(clientKey(provider));
  }

  async writeClientSecret(provider: string, secret: string): Promise<void> {
    await this.store.set(clientKey(provider), secret);
  }

  async deleteClientSecret(provider: string): Promise<void> {
    await this.store.delete(clientKey(provider));
  }

  /** The browser sign-in a later `connect --redirected-url` may complete (state and PKCE verifier are secrets too). */
  async readPending(provider: string): Promise<PendingConnect | null> {
    const raw = (await this.store.get(this.pendingKey(provider))) ?? (await this.store.get(legacyPendingKey(provider)));
    if (raw === null) return null;
    try {
      const parsed = pendingSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async writePending(pending: PendingConnect): Promise<void> {
    await this.store.set(this.pendingKey(pending.provider), JSON.stringify(pending));
  }

  async deletePending(provider: string): Promise<void> {
    await this.store.delete(this.pendingKey(provider));
    await this.store.delete(legacyPendingKey(provider));
  }
}

export type { StoredTokens };
