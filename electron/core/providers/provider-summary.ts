import type { ProviderSummary } from '../../shared/models';
import type { ProviderConfig, ProviderDefinition } from './types';

/**
 * What the renderer and `tokentray provider list` learn about a provider: the facts of its
 * definition plus whether it is set up. The test doubles build theirs with this too, so they
 * cannot drift from the real definitions.
 */
export function summarizeProvider(provider: ProviderDefinition, config: ProviderConfig | null): ProviderSummary {
  const demo = provider.kind === 'demo';
  return {
    id: provider.id,
    name: provider.name,
    kind: provider.kind,
    configured: demo || config !== null,
    methods: [...provider.methods],
    redirectUri: demo ? null : (config?.redirectUri ?? provider.defaultRedirectUri),
    needsHost: provider.needsHost,
    hostExample: provider.hostExample ?? null,
    registerUrl: provider.registerUrl,
    personalTokenHint: provider.personalTokenHint,
  };
}
