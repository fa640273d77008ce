// The one rule for every provider endpoint, whether a discovery document named it, the
// user overrode it or a provider file on disk holds it: https, or plain http on this
// machine (electron/shared/endpoint-url.ts). Tokens, refresh tokens and client secrets
// travel to these, and the authorize URL is handed to the browser, so a `file:`,
// `javascript:` or `ms-msdt:` endpoint is refused before anything is sent or opened.
import { endpointUrlProblem } from '../../shared/endpoint-url';
import { TokentrayError, safeDetail } from '../errors';
import type { GenericProviderMetadata, ProviderEndpoints } from './types';

type Named = ReadonlyArray<readonly [what: string, value: string | null | undefined]>;

function firstProblem(endpoints: Named): string | null {
  for (const [what, value] of endpoints) {
    if (value === null || value === undefined || value === '') continue;
    const problem = endpointUrlProblem(value, `${what} "${safeDetail(value, 80)}"`);
    if (problem !== null) return problem;
  }
  return null;
}

/** Every endpoint a discovery document gave; throws naming the first one that breaks the rule. */
export function assertDiscoveredEndpoints(host: string, meta: Omit<GenericProviderMetadata, 'name'>): void {
  const problem = firstProblem([
    ['The issuer', meta.issuer],
    ['Its authorization endpoint', meta.authorizationEndpoint],
    ['Its token endpoint', meta.tokenEndpoint],
    ['Its revocation endpoint', meta.revocationEndpoint],
    ['Its userinfo endpoint', meta.userinfoEndpoint],
    ['Its signing keys (jwks_uri)', meta.jwksUri],
  ]);
  if (problem !== null) {
    throw new TokentrayError(
      'PROVIDER_CONFIG_INVALID',
      `The discovery document of ${safeDetail(host, 80)} is refused: ${problem}`,
    );
  }
}

/** The endpoints in force for a provider, checked each time they are read (a file on disk may predate a rule). */
export function assertEndpoints(
  providerName: string,
  endpoints: ProviderEndpoints,
  generic: GenericProviderMetadata | null,
): void {
  const problem = firstProblem([
    ['The authorize URL', endpoints.authorizeUrl],
    ['The token URL', endpoints.tokenUrl],
    ['The API URL', endpoints.apiUrl],
    ['The revocation URL', endpoints.revokeUrl],
    ['The issuer', endpoints.issuer],
    ['The userinfo URL', generic?.userinfoEndpoint],
    ['The signing keys URL (jwks_uri)', generic?.jwksUri],
  ]);
  if (problem !== null) {
    throw new TokentrayError(
      'PROVIDER_CONFIG_INVALID',
      `${providerName}'s settings are refused: ${problem.replace(/\.$/, '')}; set the provider up again.`,
    );
  }
}
