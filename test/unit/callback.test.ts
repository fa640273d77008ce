import { describe, expect, it } from 'vitest';
import { parseCallback, validateCallback, type CallbackExpectations } from '../../electron/core/oauth/callback';

const expect_: CallbackExpectations = { state: 'S'.repeat(43), issuer: null, issRequired: false };
const check = (input: string, exp = expect_) => validateCallback(parseCallback(input), exp);

describe('callback validation', () => {
  it('accepts a full redirected URL, a bare query and a fragment', () => {
    expect(check(`http://127.0.0.1:8976/callback?code=abc&state=${expect_.state}`).code).toBe('abc');
    expect(check(`?code=abc&state=${expect_.state}`).code).toBe('abc');
    expect(check(`tokentray://callback/demo#code=abc&state=${expect_.state}`).code).toBe('abc');
  });

  it('reads amoCRM referer as the account host and refuses a host with a path', () => {
    expect(check(`http://localhost:8181/?code=c&state=${expect_.state}&referer=example.amocrm.ru`).referer).toBe(
      'example.amocrm.ru',
    );
    expect(() => check(`http://localhost:8181/?code=c&state=${expect_.state}&referer=evil.com/x`)).toThrow(
      expect.objectContaining({ code: 'CALLBACK_INVALID' }),
    );
  });

  it.each([
    ['wrong state', `?code=abc&state=nope`, 'STATE_MISMATCH'],
    ['missing state', `?code=abc`, 'STATE_MISMATCH'],
    ['duplicated state', `?code=abc&state=${expect_.state}&state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['missing code', `?state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['access denied', `?error=access_denied&state=${expect_.state}`, 'ACCESS_DENIED'],
    ['other error', `?error=server_error&error_description=boom&state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['bad encoding', `?code=%E0%A4%A&state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['control characters in code', `?code=a%0Ab&state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['huge code', `?code=${'a'.repeat(5000)}&state=${expect_.state}`, 'CALLBACK_INVALID'],
    ['not a URL', `http://[::1`, 'CALLBACK_INVALID'],
    ['empty', `   `, 'CALLBACK_INVALID'],
  ])('rejects %s with a coded error', (_name, input, code) => {
    expect(() => check(input)).toThrow(expect.objectContaining({ code }));
  });

  it('checks the state before reporting a provider error, so a forged error cannot cancel a sign-in', () => {
    expect(() => check('?error=access_denied&state=forged')).toThrow(
      expect.objectContaining({ code: 'STATE_MISMATCH' }),
    );
  });

  it('rejects an issuer mix-up when the provider names its issuer', () => {
    const exp = { state: expect_.state, issuer: 'https://id.example', issRequired: true };
    expect(check(`?code=a&state=${exp.state}&iss=https%3A%2F%2Fid.example`, exp).code).toBe('a');
    expect(() => check(`?code=a&state=${exp.state}&iss=https%3A%2F%2Fevil.example`, exp)).toThrow(
      expect.objectContaining({ code: 'CALLBACK_INVALID' }),
    );
    expect(() => check(`?code=a&state=${exp.state}`, exp)).toThrow(
      expect.objectContaining({ code: 'CALLBACK_INVALID' }),
    );
  });

  it('never echoes the code or state in its messages', () => {
    try {
      check('?code=SECRETCODE123&state=WRONGSTATE999');
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/SECRETCODE123|WRONGSTATE999/);
    }
  });
});
