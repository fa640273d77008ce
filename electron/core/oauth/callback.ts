import { TokentrayError, safeDetail } from '../errors';
import type { CallbackParams } from '../providers/types';
import { statesEqual } from './pkce';

const MAX_PARAM_LENGTH = 4096;
const SINGLE_PARAMS = ['code', 'state', 'error', 'error_description', 'referer', 'iss'] as const;

/**
 * Reads what a provider sent back: a full redirected URL (loopback, deep link or
 * pasted from the address bar) or a bare query string. Everything wrong with it
 * becomes a coded error with a sentence for the user; it never throws anything else.
 */
export function parseCallback(input: string): URLSearchParams {
  const text = input.trim();
  if (text === '' || text.length > 16_384) {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The pasted text is empty or far too long to be a sign-in redirect; copy the address the browser landed on.',
    );
  }
  let query: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        'That is not a valid URL; copy the whole address the browser landed on after you allowed access.',
      );
    }
    // Some providers put the answer in the fragment; accept either, never both.
    query = url.search.length > 1 ? url.search.slice(1) : url.hash.replace(/^#/, '');
  } else {
    query = text.replace(/^[?#]/, '');
  }
  try {
    decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The redirect address is not correctly encoded; copy it again from the browser.',
    );
  }
  return new URLSearchParams(query);
}

export interface CallbackExpectations {
  state: string | null;
  /** Generic OIDC with RFC 9207: the issuer the `iss` parameter must name. */
  issuer: string | null;
  issRequired: boolean;
}

/** Checks a callback against the sign-in in progress and returns its parameters. */
export function validateCallback(params: URLSearchParams, expected: CallbackExpectations): CallbackParams {
  for (const name of SINGLE_PARAMS) {
    const values = params.getAll(name);
    if (values.length > 1) {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        `The sign-in redirect carries "${name}" more than once, which a genuine provider never sends; start the connection again.`,
      );
    }
    if ((values[0]?.length ?? 0) > MAX_PARAM_LENGTH) {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        `The sign-in redirect's "${name}" is too long to be genuine; start the connection again.`,
      );
    }
  }
  const state = params.get('state');
  if (expected.state !== null) {
    if (state === null || state === '') {
      throw new TokentrayError(
        'STATE_MISMATCH',
        'The sign-in redirect has no state, so it cannot be matched to the connection in progress; start the connection again from Tokentray.',
      );
    }
    if (!statesEqual(expected.state, state)) {
      throw new TokentrayError(
        'STATE_MISMATCH',
        'The sign-in redirect does not belong to the connection in progress (state mismatch); start the connection again from Tokentray.',
      );
    }
  }
  const error = params.get('error');
  if (error !== null) {
    if (error === 'access_denied') {
      throw new TokentrayError(
        'ACCESS_DENIED',
        'Access was denied at the provider; connect again and choose Allow to link the account.',
      );
    }
    const description = safeDetail(params.get('error_description') ?? '');
    throw new TokentrayError(
      'CALLBACK_INVALID',
      `The provider refused the sign-in (${safeDetail(error, 40)}${description ? `: ${description}` : ''}); check the app registration and try again.`,
    );
  }
  const iss = params.get('iss');
  if (expected.issuer !== null && (iss !== null || expected.issRequired) && iss !== expected.issuer) {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The sign-in redirect names a different issuer than the provider you are connecting (mix-up protection); start the connection again.',
    );
  }
  const code = params.get('code');
  if (code === null || code.trim() === '') {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The sign-in redirect carries no authorization code; finish the consent in the browser, then paste the address you land on.',
    );
  }
  if (!/^[\x21-\x7e]+$/.test(code)) {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The authorization code contains characters a provider never sends; copy the address again.',
    );
  }
  const referer = params.get('referer');
  if (referer !== null && !isHostName(referer)) {
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The redirect names an account host that is not a valid host name; copy the address again.',
    );
  }
  return { code, state, referer, iss };
}

/** A bare host such as example.amocrm.ru (optionally with a port), nothing else. */
export function isHostName(value: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/i.test(
    value,
  );
}
