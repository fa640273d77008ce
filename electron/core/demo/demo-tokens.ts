import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless signing for the demo authorization server.
 *
 * Every process (the CLI, the desktop app, the dev bridge) starts its own demo
 * server on its own port, and a token issued by one must be accepted by the
 * next. So nothing is stored: access tokens are HS256 JWTs, and refresh tokens,
 * authorization codes and consent requests are HMAC-signed opaque strings.
 *
 * The key is a fixed constant in the source. That is acceptable ONLY because
 * demo tokens grant nothing real: they open a generated task list served by
 * this same process on 127.0.0.1. Never copy this pattern into a real server.
 */
export const DEMO_SIGNING_KEY = 'tokentray-demo/v1: public by design, demo tokens grant nothing real';

export const DEMO_ISSUER = 'tokentray-demo';
export const DEMO_CLIENT_ID = 'tokentray-demo';
export const DEMO_SCOPES = ['tasks:read', 'tasks:write'] as const;
export const DEMO_SCOPE = DEMO_SCOPES.join(' ');

type Purpose = 'access' | 'refresh' | 'code' | 'consent';

// One derived key per kind of token, so a refresh token can never pass as a code and so on.
const keys = new Map<Purpose, Buffer>();
function keyFor(purpose: Purpose): Buffer {
  let key = keys.get(purpose);
  if (!key) {
    key = createHmac('sha256', DEMO_SIGNING_KEY).update(`tokentray-demo ${purpose}`).digest();
    keys.set(purpose, key);
  }
  return key;
}

function mac(purpose: Purpose, data: string): string {
  return createHmac('sha256', keyFor(purpose)).update(data).digest('base64url');
}

function macMatches(purpose: Purpose, data: string, signature: string): boolean {
  const expected = Buffer.from(mac(purpose, data));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeJson(part: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function newId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

export interface AccessClaims {
  iss: string;
  sub: string;
  /** Seconds since the epoch. */
  exp: number;
  iat: number;
  scope: string;
  jti: string;
}

export function signAccessToken(claims: AccessClaims): string {
  const signingInput = `${encodeJson({ alg: 'HS256', typ: 'JWT' })}.${encodeJson(claims)}`;
  return `${signingInput}.${mac('access', signingInput)}`;
}

/** Checks the signature and the shape; expiry and revocation are the caller's business. */
export function verifyAccessToken(token: string): AccessClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [headerPart, claimsPart, signature] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  // Only HS256 is ever issued; anything else (alg "none" included) is refused before the signature check.
  if (!header || header['alg'] !== 'HS256') return null;
  if (!macMatches('access', `${headerPart}.${claimsPart}`, signature)) return null;
  const c = decodeJson(claimsPart);
  if (!c) return null;
  const { iss, sub, exp, iat, scope, jti } = c;
  if (iss !== DEMO_ISSUER || typeof sub !== 'string' || typeof scope !== 'string' || typeof jti !== 'string')
    return null;
  if (typeof exp !== 'number' || typeof iat !== 'number') return null;
  return { iss, sub, exp, iat, scope, jti };
}

/** `prefix.<base64url JSON>.<signature>`: signed, readable, not encrypted (it holds nothing secret). */
export function sealOpaque(prefix: string, purpose: Exclude<Purpose, 'access'>, payload: object): string {
  const body = `${prefix}.${encodeJson(payload)}`;
  return `${body}.${mac(purpose, body)}`;
}

export function openOpaque(
  prefix: string,
  purpose: Exclude<Purpose, 'access'>,
  token: string,
): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) return null;
  const [, payloadPart, signature] = parts as [string, string, string];
  if (!macMatches(purpose, `${prefix}.${payloadPart}`, signature)) return null;
  return decodeJson(payloadPart);
}

export const REFRESH_PREFIX = 'demo_rt';
export const CODE_PREFIX = 'demo_code';
export const CONSENT_PREFIX = 'demo_consent';

export interface RefreshPayload {
  sub: string;
  /** Grant id: every refresh token descending from one consent shares it. */
  gid: string;
  /** Generation: 1 for the first refresh token, +1 on every rotation. */
  gen: number;
  scope: string;
  iat: number;
  exp: number;
}

export function readRefreshToken(token: string): RefreshPayload | null {
  const p = openOpaque(REFRESH_PREFIX, 'refresh', token);
  if (!p) return null;
  const { sub, gid, gen, scope, iat, exp } = p;
  if (typeof sub !== 'string' || typeof gid !== 'string' || typeof scope !== 'string') return null;
  if (typeof gen !== 'number' || typeof iat !== 'number' || typeof exp !== 'number') return null;
  return { sub, gid, gen, scope, iat, exp };
}

export interface CodePayload {
  sub: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
}

export function readCode(code: string): CodePayload | null {
  const p = openOpaque(CODE_PREFIX, 'code', code);
  if (!p) return null;
  const { sub, client_id, redirect_uri, code_challenge, scope, iat, exp, jti } = p;
  if (
    typeof sub !== 'string' ||
    typeof client_id !== 'string' ||
    typeof redirect_uri !== 'string' ||
    typeof code_challenge !== 'string' ||
    typeof scope !== 'string' ||
    typeof jti !== 'string'
  )
    return null;
  if (typeof iat !== 'number' || typeof exp !== 'number') return null;
  return { sub, client_id, redirect_uri, code_challenge, scope, iat, exp, jti };
}

/** What the consent form carries from GET /authorize to POST /authorize/decision, signed so it cannot be edited. */
export interface ConsentRequest {
  client_id: string;
  redirect_uri: string;
  state: string | null;
  code_challenge: string;
  scope: string;
  exp: number;
}

export function readConsentRequest(sealed: string): ConsentRequest | null {
  const p = openOpaque(CONSENT_PREFIX, 'consent', sealed);
  if (!p) return null;
  const { client_id, redirect_uri, state, code_challenge, scope, exp } = p;
  if (
    typeof client_id !== 'string' ||
    typeof redirect_uri !== 'string' ||
    (state !== null && typeof state !== 'string') ||
    typeof code_challenge !== 'string' ||
    typeof scope !== 'string' ||
    typeof exp !== 'number'
  )
    return null;
  return { client_id, redirect_uri, state, code_challenge, scope, exp };
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) compared with the stored challenge. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
