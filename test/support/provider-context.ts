import type { ProviderContext, ProviderEndpoints } from '../../electron/core/providers/types';

/** What the registry hands a provider for an app that is set up: the config, the endpoints in force, the secret. */
export function providerContext(p: {
  provider: string;
  clientId: string;
  clientSecret: string | null;
  endpoints: ProviderEndpoints;
  redirectUri: string;
}): ProviderContext {
  return {
    config: {
      provider: p.provider,
      clientId: p.clientId,
      redirectUri: null,
      authorizeUrl: null,
      tokenUrl: null,
      apiUrl: null,
      generic: null,
      hasClientSecret: p.clientSecret !== null,
      updatedAt: new Date(0).toISOString(),
    },
    endpoints: p.endpoints,
    clientSecret: p.clientSecret,
    redirectUri: p.redirectUri,
  };
}
