import type { ServerResponse } from 'node:http';
import { consentPage, errorPage } from './consent-page';
import { DEMO_USERS, findDemoUser } from './demo-tasks';
import {
  CODE_PREFIX,
  CONSENT_PREFIX,
  DEMO_CLIENT_ID,
  DEMO_SCOPE,
  DEMO_SCOPES,
  newId,
  readConsentRequest,
  sealOpaque,
  type CodePayload,
  type ConsentRequest,
} from './demo-tokens';
import { only, readForm, redirect, sendPage, type DemoRoute } from './demo-http';

/**
 * The demo's consent: GET /authorize checks the request and shows the consent page (a demo
 * user to sign in as, Allow or Deny); POST /authorize/decision turns the choice into a
 * redirect with a code or an error. The request travels sealed in the page's form, so
 * nothing is kept between the two.
 */

const CODE_TTL_SECONDS = 120;
const CONSENT_TTL_SECONDS = 600;

/**
 * Loopback http redirect URIs on any port (RFC 8252 §7.3) and the app's own
 * tokentray:// scheme. Anything else could carry a code off this machine.
 */
export function isAllowedRedirectUri(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.hash || url.username || url.password) return false;
  if (url.protocol === 'tokentray:') return true;
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
}

function redirectWith(target: string, params: Record<string, string | null>): string {
  const url = new URL(target);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

export function consentRoutes(nowSeconds: () => number): DemoRoute {
  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const clientId = q.get('client_id');
    const redirectUri = q.get('redirect_uri');
    // RFC 6749 §4.1.2.1: with a bad client or redirect URI, tell the user, never redirect.
    if (clientId !== DEMO_CLIENT_ID) {
      return sendPage(
        res,
        400,
        errorPage('Unknown app', `This demo server only knows the client "${DEMO_CLIENT_ID}".`),
      );
    }
    if (redirectUri === null || !isAllowedRedirectUri(redirectUri)) {
      return sendPage(
        res,
        400,
        errorPage(
          'Redirect address not allowed',
          'The demo server only returns to http://127.0.0.1, http://localhost or tokentray:// addresses.',
        ),
      );
    }
    const state = q.get('state');
    const fail = (error: string, description: string): void =>
      redirect(res, redirectWith(redirectUri, { error, error_description: description, state }));
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code.');
    const challenge = q.get('code_challenge');
    if (challenge === null || q.get('code_challenge_method') !== 'S256') {
      return fail('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256.');
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request', 'code_challenge is malformed.');
    const requested = (q.get('scope') ?? DEMO_SCOPE).split(' ').filter(Boolean);
    if (requested.some((s) => !(DEMO_SCOPES as readonly string[]).includes(s))) {
      return fail('invalid_scope', `The demo knows the scopes ${DEMO_SCOPE}.`);
    }
    const scopes = requested.length > 0 ? requested : [...DEMO_SCOPES];
    const consent: ConsentRequest = {
      client_id: clientId,
      redirect_uri: redirectUri,
      state,
      code_challenge: challenge,
      scope: scopes.join(' '),
      exp: nowSeconds() + CONSENT_TTL_SECONDS,
    };
    const target = new URL(redirectUri);
    sendPage(
      res,
      200,
      consentPage({
        request: sealOpaque(CONSENT_PREFIX, 'consent', consent),
        scopes,
        users: DEMO_USERS,
        returnTo: target.protocol === 'http:' ? target.host : `${target.protocol}//`,
      }),
    );
  }

  function decision(form: URLSearchParams, res: ServerResponse): void {
    const request = readConsentRequest(form.get('request') ?? '');
    if (!request || request.exp <= nowSeconds() || !isAllowedRedirectUri(request.redirect_uri)) {
      return sendPage(
        res,
        400,
        errorPage('This sign-in page has expired', 'Go back to Tokentray and start connecting the demo again.'),
      );
    }
    const choice = form.get('decision');
    if (choice === 'deny') {
      const denied = { error: 'access_denied', error_description: 'The user denied access.', state: request.state };
      return redirect(res, redirectWith(request.redirect_uri, denied));
    }
    if (choice !== 'allow') {
      return sendPage(res, 400, errorPage('Choose Allow or Deny', 'Go back and press one of the two buttons.'));
    }
    const user = findDemoUser(form.get('user') ?? '') ?? DEMO_USERS[0]!;
    const iat = nowSeconds();
    const code: CodePayload = {
      sub: user.id,
      client_id: request.client_id,
      redirect_uri: request.redirect_uri,
      code_challenge: request.code_challenge,
      scope: request.scope,
      iat,
      exp: iat + CODE_TTL_SECONDS,
      jti: newId(),
    };
    const sealed = sealOpaque(CODE_PREFIX, 'code', code);
    redirect(res, redirectWith(request.redirect_uri, { code: sealed, state: request.state }));
  }

  return async (req, res, url) => {
    if (url.pathname === '/authorize') {
      only(req, 'GET');
      authorize(url, res);
      return true;
    }
    if (url.pathname === '/authorize/decision') {
      only(req, 'POST');
      decision(await readForm(req), res);
      return true;
    }
    return false;
  };
}
