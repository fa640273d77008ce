import { DEMO_CLIENT_ID } from '../demo/demo-tokens';
import { TokentrayError } from '../errors';
import type { MetadataStore } from '../vault/metadata';
import type { Vault } from '../vault/vault';
import { makeGenericProvider } from './generic-oidc';
import { assertEndpoints } from './endpoint-rule';
import type { ProviderConfig, ProviderContext, ProviderDefinition, ProviderEndpoints } from './types';

export interface RegistryOptions {
  /** The built-in providers (providers/builtin.ts in the product; tests may pass fewer). */
  builtins: readonly ProviderDefinition[];
  metadata: MetadataStore;
  vault: Vault;
  /** Base URL of the in-process demo server, started on first use. */
  demoBaseUrl: () => Promise<string>;
  demoEnabled: () => Promise<boolean>;
}

/** Knows every provider: the built-in ones (data files) and the generic ones the user added. */
export class ProviderRegistry {
  constructor(private readonly options: RegistryOptions) {}

  async all(): Promise<ProviderDefinition[]> {
    const generic = (await this.options.metadata.listProviderConfigs())
      .filter((c) => c.generic !== null)
      .map((c) => makeGenericProvider(c.provider, c.generic!));
    const demoOn = await this.options.demoEnabled();
    return [...this.options.builtins.filter((p) => p.kind !== 'demo' || demoOn), ...generic];
  }

  builtin(id: string): ProviderDefinition | undefined {
    return this.options.builtins.find((p) => p.id === id);
  }

  async get(id: string): Promise<ProviderDefinition> {
    const builtin = this.builtin(id);
    if (builtin) return builtin;
    const config = await this.options.metadata.readProvider(safeProviderId(id));
    if (config?.generic) return makeGenericProvider(config.provider, config.generic);
    const known = (await this.all()).map((p) => p.id).join(', ');
    throw new TokentrayError(
      'NOT_FOUND',
      `There is no provider called "${id.slice(0, 40)}"; known providers: ${known}.`,
    );
  }

  /**
   * The configuration, endpoints and client secret in force for a provider.
   * `requireClient` is false for personal-token entry, which needs no app registration.
   */
  async context(
    provider: ProviderDefinition,
    options: { requireClient: boolean } = { requireClient: true },
  ): Promise<ProviderContext> {
    if (provider.kind === 'demo') {
      const base = await this.options.demoBaseUrl();
      const config: ProviderConfig = {
        provider: provider.id,
        clientId: DEMO_CLIENT_ID,
        redirectUri: null,
        authorizeUrl: `${base}/authorize`,
        tokenUrl: `${base}/token`,
        apiUrl: `${base}/api`,
        generic: null,
        hasClientSecret: false,
        updatedAt: new Date(0).toISOString(),
      };
      return {
        config,
        endpoints: {
          authorizeUrl: `${base}/authorize`,
          tokenUrl: `${base}/token`,
          apiUrl: `${base}/api`,
          revokeUrl: `${base}/revoke`,
          issuer: null,
        },
        clientSecret: null,
        redirectUri: provider.defaultRedirectUri,
      };
    }
    let config = await this.options.metadata.readProvider(provider.id);
    if (!config) {
      if (options.requireClient) {
        throw new TokentrayError(
          'PROVIDER_NOT_CONFIGURED',
          `${provider.name} is not set up yet; register an app with ${provider.name} and run \`tokentray provider set ${provider.id} --client-id ID --client-secret-stdin\`.`,
        );
      }
      config = {
        provider: provider.id,
        clientId: '',
        redirectUri: null,
        authorizeUrl: null,
        tokenUrl: null,
        apiUrl: null,
        generic: null,
        hasClientSecret: false,
        updatedAt: new Date(0).toISOString(),
      };
    }
    const clientSecret = config.hasClientSecret ? await this.options.vault.readClientSecret(provider.id) : null;
    if (options.requireClient && config.hasClientSecret && clientSecret === null) {
      throw new TokentrayError(
        'KEYCHAIN_ITEM_MISSING',
        `The client secret for ${provider.name} is missing from the keychain; set it again with \`tokentray provider set ${provider.id} --client-id ${config.clientId} --client-secret-stdin\`.`,
      );
    }
    const endpoints: ProviderEndpoints = {
      authorizeUrl: config.authorizeUrl ?? provider.defaults.authorizeUrl,
      tokenUrl: config.tokenUrl ?? provider.defaults.tokenUrl,
      apiUrl: config.apiUrl ?? provider.defaults.apiUrl,
      revokeUrl: provider.defaults.revokeUrl,
      issuer: provider.defaults.issuer ?? null,
    };
    assertEndpoints(provider.name, endpoints, config.generic);
    return { config, endpoints, clientSecret, redirectUri: config.redirectUri ?? provider.defaultRedirectUri };
  }
}

/** Provider ids double as file names. */
export function safeProviderId(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(id)) {
    throw new TokentrayError(
      'USAGE',
      `"${id.slice(0, 40)}" is not a valid provider name; use lowercase letters, digits and dashes.`,
    );
  }
  return id;
}
