import * as oauth from 'oauth4webapi';
import { LOOPBACK_HOSTS_TEXT, isLoopbackHostname } from '../../shared/endpoint-url';
import { TokentrayError } from '../errors';
import type { HttpClient } from '../http/client';
import type { GenericProviderMetadata } from './types';

/**
 * Reads an issuer's discovery document (OIDC first, then RFC 8414) with
 * oauth4webapi, which checks that the document really belongs to the issuer.
 * Plain http is accepted only for loopback issuers (local servers and tests).
 */
export async function discoverProvider(
  _http: HttpClient,
  name: string,
  issuer: string,
  scopes: string[] | undefined,
  forcedAuth: 'none' | null,
): Promise<GenericProviderMetadata> {
  const issuerUrl = new URL(issuer);
  const loopback = issuerUrl.protocol === 'http:' && isLoopbackHostname(issuerUrl.hostname);
  if (issuerUrl.protocol !== 'https:' && !loopback) {
    throw new TokentrayError(
      'USAGE',
      `The issuer must be an https URL (plain http is allowed only for ${LOOPBACK_HOSTS_TEXT}).`,
    );
  }
  const options = loopback ? { [oauth.allowInsecureRequests]: true } : {};
  let as: oauth.AuthorizationServer | undefined;
  let lastError: unknown;
  for (const algorithm of ['oidc', 'oauth2'] as const) {
    try {
      const response = await oauth.discoveryRequest(issuerUrl, {
        ...options,
        algorithm,
        signal: AbortSignal.timeout(15_000),
      });
      as = await oauth.processDiscoveryResponse(issuerUrl, response);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!as) {
    const detail = lastError instanceof Error ? lastError.message.slice(0, 120) : 'no discovery document';
    throw new TokentrayError(
      'PROVIDER_UNAVAILABLE',
      `Could not read the discovery document of ${issuerUrl.host} (${detail}); check the issuer URL.`,
    );
  }
  if (!as.authorization_endpoint || !as.token_endpoint) {
    throw new TokentrayError(
      'PROVIDER_CONFIG_INVALID',
      `${issuerUrl.host} does not offer the authorization code flow (no authorization or token endpoint).`,
    );
  }
  const methods = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const auth: GenericProviderMetadata['tokenEndpointAuthMethod'] =
    forcedAuth ??
    (methods.includes('client_secret_basic')
      ? 'client_secret_basic'
      : methods.includes('client_secret_post')
        ? 'client_secret_post'
        : 'none');
  const supported = as.scopes_supported ?? [];
  const wanted =
    scopes ??
    ['openid', 'profile', 'email', 'offline_access'].filter((s) => supported.length === 0 || supported.includes(s));
  return {
    name,
    issuer: as.issuer,
    authorizationEndpoint: as.authorization_endpoint,
    tokenEndpoint: as.token_endpoint,
    revocationEndpoint: as.revocation_endpoint ?? null,
    userinfoEndpoint: as.userinfo_endpoint ?? null,
    tokenEndpointAuthMethod: auth,
    scopes: wanted,
    issParameterSupported: as.authorization_response_iss_parameter_supported === true,
  };
}
