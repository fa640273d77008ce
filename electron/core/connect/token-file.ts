import { TokentrayError } from '../errors';
import { jwtExpiry } from '../oauth/jwt';

/**
 * Reads the token files the old tools leave behind, so `tokentray import` can move
 * them into the keychain:
 * - amoCRM/Kommo token responses as the PHP scripts' cron job saves them
 *   (`token_type`, `expires_in`, `access_token`, `refresh_token`; seed 004), and
 *   the amoCRM PHP library's `accessToken`/`refreshToken`/`expires`/`baseDomain` file;
 * - the TickTick Python library's `.token-oauth` cache: a dict with `access_token`,
 *   `expire_time` (epoch seconds), `scope`, written by `json.dump` or as a Python
 *   literal (seed 003, ticktick/oauth2.py `_cache_token`);
 * - Basecamp and ClickUp token responses (`access_token`, optional
 *   `refresh_token`, `expires_in`), bare or wrapped in `{"token": {…}}`.
 * Nothing here touches the network or the keychain; errors never quote the file.
 */
export interface TokenFile {
  accessToken: string;
  refreshToken: string | null;
  tokenType: string | null;
  /** ms epoch; null when the file says nothing and the token is not a JWT with `exp`. */
  expiresAt: number | null;
  scopes: string[] | null;
  /** amoCRM/Kommo: the account host, when the file names it. */
  host: string | null;
}

const MAX_FILE_BYTES = 1024 * 1024;

function invalid(message: string): never {
  throw new TokentrayError('USAGE', message);
}

/** A Python literal as `repr(dict)` writes it: dicts, lists, str, int/float, True/False/None. */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      i++;
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      ws();
      while (text[i] !== close) {
        const first = value();
        ws();
        if (ch === '{') {
          if (text[i++] !== ':' || typeof first !== 'string') throw new Error('bad dict');
          obj[first] = value();
        } else arr.push(first);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) throw new Error('expected , or close');
        ws();
      }
      i++;
      return ch === '{' ? obj : arr;
    }
    if (ch === "'" || ch === '"') {
      i++;
      let out = '';
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\') {
          const next = text[++i];
          out += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
          i++;
        } else out += text[i++];
      }
      if (text[i] !== ch) throw new Error('unterminated string');
      i++;
      return out;
    }
    const word = /^(True|False|None|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i))?.[0];
    if (!word) throw new Error('unexpected character');
    i += word.length;
    return word === 'True' ? true : word === 'False' ? false : word === 'None' ? null : Number(word);
  };
  const result = value();
  ws();
  if (i !== text.length) throw new Error('trailing text');
  return result;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;

/**
 * @param writtenAtMs when the file was written (its mtime): `expires_in` counts from then.
 */
export function parseTokenFile(text: string, writtenAtMs: number): TokenFile {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) invalid('That file is far too large to be a token file.');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = parsePythonLiteral(text.trim());
    } catch {
      invalid(
        'That file is neither JSON nor a Python dict; give the token file the old script wrote (for example tokens.json or .token-oauth).',
      );
    }
  }
  if (data && typeof data === 'object' && !Array.isArray(data) && 'token' in data) {
    const inner = (data as { token: unknown }).token;
    if (inner && typeof inner === 'object') data = inner;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) invalid('That file holds no token object.');
  const o = data as Record<string, unknown>;
  const accessToken = str(o['access_token']) ?? str(o['accessToken']);
  if (!accessToken || /\s/.test(accessToken))
    invalid('That file has no access_token; give the file the old script saved the token response in.');
  const refreshToken = str(o['refresh_token']) ?? str(o['refreshToken']);
  const absolute = num(o['expire_time']) ?? num(o['expires']) ?? num(o['expires_at']);
  const expiresIn = num(o['expires_in']);
  const isoExpiry = typeof o['expires_at'] === 'string' ? Date.parse(o['expires_at']) : NaN;
  const expiresAt =
    absolute !== null
      ? absolute * 1000
      : !Number.isNaN(isoExpiry)
        ? isoExpiry
        : expiresIn !== null
          ? writtenAtMs + expiresIn * 1000
          : jwtExpiry(accessToken);
  const scope = str(o['scope']);
  return {
    accessToken,
    refreshToken,
    tokenType: str(o['token_type']) ?? str(o['tokenType']),
    expiresAt,
    scopes: scope ? scope.split(/[\s,]+/).filter(Boolean) : null,
    host: str(o['baseDomain']),
  };
}
