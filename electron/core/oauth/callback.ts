import * as oauth from 'oauth4webapi';
import { TokentrayError, safeDetail } from '../errors';
import type { CallbackParams } from '../providers/types';

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
  checkWithOauth4webapi(params, expected);
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
  const state = params.get('state');
  const iss = params.get('iss');
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

/** Stands in for the issuer of providers that name none: an `iss` they send is then not checked (as before RFC 9207). */
const NO_ISSUER = 'urn:tokentray:no-issuer';

/**
 * The authorization-response checks of RFC 6749 §4.1.2 and RFC 9207, by oauth4webapi: the state
 * must be the sign-in's (checked before any error the response reports, so a forged error cannot
 * cancel a sign-in), an error response becomes the provider's refusal, and when the provider
 * names an issuer, `iss` must be it (required when it says it sends one). Its errors become
 * coded ones with a sentence for the user; which check failed is told by what it expected.
 */
function checkWithOauth4webapi(params: URLSearchParams, expected: CallbackExpectations): void {
  const as: oauth.AuthorizationServer = {
    issuer: expected.issuer ?? NO_ISSUER,
    authorization_response_iss_parameter_supported: expected.issuer !== null && expected.issRequired,
  };
  const checked = new URLSearchParams(params);
  // Without an issuer to compare with, a stray `iss` says nothing.
  if (expected.issuer === null) checked.delete('iss');
  try {
    oauth.validateAuthResponse(as, { client_id: 'tokentray' }, checked, expected.state ?? oauth.skipStateCheck);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw providerRefusal(error.error, error.error_description);
    const expectedValue = (error as { cause?: { expected?: unknown } }).cause?.expected;
    if (expected.state !== null && expectedValue === expected.state) {
      throw new TokentrayError(
        'STATE_MISMATCH',
        params.get('state')
          ? 'The sign-in redirect does not belong to the connection in progress (state mismatch); start the connection again from Tokentray.'
          : 'The sign-in redirect has no state, so it cannot be matched to the connection in progress; start the connection again from Tokentray.',
      );
    }
    if (error instanceof oauth.UnsupportedOperationError) {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        'The sign-in redirect carries tokens instead of a code (an implicit or hybrid flow Tokentray never asks for); start the connection again.',
      );
    }
    if (
      error instanceof oauth.OperationProcessingError &&
      expected.issuer !== null &&
      params.getAll('response').length === 0
    ) {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        'The sign-in redirect names a different issuer than the provider you are connecting (mix-up protection); start the connection again.',
      );
    }
    throw new TokentrayError(
      'CALLBACK_INVALID',
      'The sign-in redirect is not a plain authorization response; start the connection again.',
    );
  }
}

function providerRefusal(error: string, description: string | undefined): TokentrayError {
  if (error === 'access_denied') {
    return new TokentrayError(
      'ACCESS_DENIED',
      'Access was denied at the provider; connect again and choose Allow to link the account.',
    );
  }
  const said = safeDetail(description ?? '');
  return new TokentrayError(
    'CALLBACK_INVALID',
    `The provider refused the sign-in (${safeDetail(error, 40)}${said ? `: ${said}` : ''}); check the app registration and try again.`,
  );
}
