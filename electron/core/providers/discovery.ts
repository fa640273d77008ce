import * as oauth from 'oauth4webapi';
import { LOOPBACK_HOSTS_TEXT, isLoopbackHostname } from '../../shared/endpoint-url';
import { TokentrayError, safeDetail } from '../errors';
import type { HttpClient } from '../http/client';
import { assertDiscoveredEndpoints } from './endpoint-rule';
import type { GenericProviderMetadata } from './types';

const MAX_REDIRECTS = 5;
/** A discovery document is a few KiB; one far larger is not one (and must not fill memory). */
const DISCOVERY_MAX_BYTES = 1024 * 1024;
const DISCOVERY_TIMEOUT_MS = 15_000;
const REDIRECTS = [301, 302, 303, 307, 308];

/**
 * fetch for oauth4webapi's discovery, sent by Tokentray's HTTP client (its User-Agent, timeout and
 * body cap, as for every other request), following redirects only within the issuer's origin:
 * some servers publish the document under one spelling and redirect the other (Django OAuth
 * Toolkit serves `/o/.well-known/openid-configuration/` and answers 301 to the slashless path).
 * A redirect to another origin is not followed: that document would describe someone else.
 */
function discoveryFetch(http: HttpClient): typeof fetch {
  return async (input, init) => {
    let current = new URL(String(input instanceof Request ? input.url : input));
    const origin = current.origin;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      if (key !== 'user-agent') headers[key] = value;
    });
    for (let hop = 0; ; hop += 1) {
      const res = await http.send({
        method: 'GET',
        url: current.href,
        headers,
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        maxBodyBytes: DISCOVERY_MAX_BYTES,
      });
      const location = res.headers['location'];
      if (!REDIRECTS.includes(res.status) || location === undefined) {
        const contentType = res.headers['content-type'];
        const empty = res.status === 204 || res.status === 205 || res.status === 304 || !res.text;
        return new Response(empty ? null : res.text, {
          status: res.status,
          headers: contentType ? { 'content-type': contentType } : {},
        });
      }
      const next = new URL(location, current);
      if (next.origin !== origin || hop >= MAX_REDIRECTS) {
        throw new TokentrayError(
          'PROVIDER_CONFIG_INVALID',
          next.origin !== origin
            ? `The discovery document of ${origin} redirects to ${safeDetail(next.origin, 80)}, another server; give that server's issuer URL instead.`
            : `The discovery document of ${origin} redirects more than ${MAX_REDIRECTS} times; check the issuer URL.`,
        );
      }
      current = next;
    }
  };
}

/** The issuer a refused document named, for the message. */
function documentIssuer(error: oauth.OperationProcessingError): string {
  const body = (error.cause as { body?: { issuer?: unknown } } | undefined)?.body;
  return typeof body?.issuer === 'string' ? body.issuer : 'another issuer';
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
  http: HttpClient,
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
    [oauth.customFetch]: discoveryFetch(http),
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
      // OpenID Connect Discovery 1.0 §4.3 / RFC 8414 §3.3: the document's issuer must be the URL it
      // was fetched for. One that names another issuer describes another server (or an attacker's
      // copy): refused outright, not tried under the other well-known path.
      if (error instanceof oauth.OperationProcessingError && error.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
        throw new TokentrayError(
          'PROVIDER_CONFIG_INVALID',
          `The discovery document at ${issuerUrl.host} names the issuer ${safeDetail(documentIssuer(error), 100)}, not ${safeDetail(issuerUrl.href, 100)}; Tokentray accepts only a document that names the URL it came from, so check the issuer URL.`,
        );
      }
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
    // ID token signatures are checked against these keys (oauth/id-token-signature.ts).
    jwksUri: as.jwks_uri ?? null,
  };
  // Every endpoint the document names, by the same rule as an override (https, or http on loopback).
  assertDiscoveredEndpoints(issuerUrl.host, discovered);
  return { name, ...discovered };
}
