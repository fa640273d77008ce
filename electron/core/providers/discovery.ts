import * as oauth from 'oauth4webapi';
import { LOOPBACK_HOSTS_TEXT, isLoopbackHostname } from '../../shared/endpoint-url';
import { TokentrayError, safeDetail } from '../errors';
import type { HttpClient } from '../http/client';
import { assertDiscoveredEndpoints } from './endpoint-rule';
import type { GenericProviderMetadata } from './types';

const MAX_REDIRECTS = 5;

/**
 * fetch for discovery that follows redirects only within the issuer's origin: some servers
 * publish the document under one spelling and redirect the other (Django OAuth Toolkit
 * serves `/o/.well-known/openid-configuration/` and answers 301 to the slashless path).
 * A redirect to another origin is not followed: that document would describe someone else.
 */
async function sameOriginFetch(url: string, init: RequestInit): Promise<Response> {
  let current = new URL(url);
  const origin = current.origin;
  for (let hop = 0; ; hop += 1) {
    const res = await fetch(current, { ...init, redirect: 'manual' });
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
    const next = new URL(location, current);
    if (next.origin !== origin || hop >= MAX_REDIRECTS) {
      throw new TokentrayError(
        'PROVIDER_CONFIG_INVALID',
        next.origin !== origin
          ? `The discovery document of ${origin} redirects to ${safeDetail(next.origin, 80)}, another server; give that server's issuer URL instead.`
          : `The discovery document of ${origin} redirects more than ${MAX_REDIRECTS} times; check the issuer URL.`,
      );
    }
    await res.body?.cancel();
    current = next;
  }
}

/** The issuer as the document states it, when it names the typed issuer up to a trailing slash. */
async function statedIssuer(typed: URL, response: Response): Promise<URL> {
  try {
    const body = (await response.clone().json()) as { issuer?: unknown };
    if (typeof body.issuer !== 'string') return typed;
    const stated = new URL(body.issuer);
    const trim = (path: string): string => path.replace(/\/+$/, '');
    return stated.origin === typed.origin && trim(stated.pathname) === trim(typed.pathname) ? stated : typed;
  } catch {
    return typed;
  }
}

/**
 * Reads an issuer's discovery document (OIDC first, then RFC 8414) with
 * oauth4webapi, which checks that the document really belongs to the issuer.
 * The issuer is taken exactly as the document states it (with or without a
 * trailing slash) when it is the one the user typed up to that slash, so the
 * `iss` checks later compare against the server's own spelling.
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
  const options = {
    ...(loopback ? { [oauth.allowInsecureRequests]: true } : {}),
    [oauth.customFetch]: sameOriginFetch,
  };
  let as: oauth.AuthorizationServer | undefined;
  let lastError: unknown;
  for (const algorithm of ['oidc', 'oauth2'] as const) {
    try {
      const response = await oauth.discoveryRequest(issuerUrl, {
        ...options,
        algorithm,
        signal: AbortSignal.timeout(15_000),
      });
      as = await oauth.processDiscoveryResponse(await statedIssuer(issuerUrl, response), response);
      break;
    } catch (error) {
      if (error instanceof TokentrayError) throw error;
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
    // client_secret_post first: the body carries the pair exactly, where servers disagree on how
    // to read Basic (RFC 6749 §2.3.1 form-encoding vs undecoded); OAuth 2.1 makes it the method
    // every confidential-client server must support.
    (methods.includes('client_secret_post')
      ? 'client_secret_post'
      : methods.includes('client_secret_basic')
        ? 'client_secret_basic'
        : 'none');
  const supported = as.scopes_supported ?? [];
  const wanted =
    scopes ??
    ['openid', 'profile', 'email', 'offline_access'].filter((s) => supported.length === 0 || supported.includes(s));
  const discovered = {
    issuer: as.issuer,
    authorizationEndpoint: as.authorization_endpoint,
    tokenEndpoint: as.token_endpoint,
    revocationEndpoint: as.revocation_endpoint ?? null,
    userinfoEndpoint: as.userinfo_endpoint ?? null,
    tokenEndpointAuthMethod: auth,
    scopes: wanted,
    issParameterSupported: as.authorization_response_iss_parameter_supported === true,
    ...(as.id_token_signing_alg_values_supported
      ? { idTokenSigningAlgs: [...as.id_token_signing_alg_values_supported] }
      : {}),
    authMethodsSupported: [...methods],
  };
  // Every endpoint the document names, by the same rule as an override (https, or http on loopback).
  assertDiscoveredEndpoints(issuerUrl.host, discovered);
  return { name, ...discovered };
}
