import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { accountAccess, type AccountAccess } from '../../core/account-access';
import { TokentrayError } from '../../core/errors';
import type { HttpRequest, HttpResponse } from '../../core/http/client';
import { parseRetryAfter } from '../../core/http/retry-after';
import { API_COMMAND_RETRY, nextRetry } from '../../core/http/retry-policy';
import type { TokentrayCore } from '../../core/service';
import { jsonForTerminal, terminalSafe } from '../io';
import { say } from '../output';
import { mergePages, nextPageUrl } from './api-paging';
import { collect, commandOutcome, type CliContext } from './context';

/**
 * `tokentray api <account> <path-or-url>`, modelled on `gh api`: Tokentray adds
 * the Authorization header, the base URL comes from the account, and the token
 * is only ever sent to the account's own API origins. Requests go through the
 * core's HTTP client (User-Agent, timeouts, the provider's pacing) and the
 * service's token access (single-flight refresh, cross-process lock).
 */

type Method = HttpRequest['method'];
const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const MAX_PAGES = 10_000;

interface ApiOptions {
  method?: string;
  rawField: string[];
  field: string[];
  input?: string;
  header: string[];
  workspace?: string;
  paginate?: boolean;
  include?: boolean;
  silent?: boolean;
}

function usage(message: string): never {
  throw new TokentrayError('USAGE', message);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function readSource(source: string, what: string): Promise<string> {
  if (source === '-') return readStdin();
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    usage(`Cannot read ${what} "${source.slice(0, 200)}" (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
}

/** `-f key=value` (always a string) and `-F key=value` (true/false/null/numbers typed, `@file` read). */
async function buildFields(raw: string[], typed: string[]): Promise<Record<string, unknown> | null> {
  if (raw.length === 0 && typed.length === 0) return null;
  const fields: Record<string, unknown> = {};
  const split = (spec: string, flag: string): [string, string] => {
    const eq = spec.indexOf('=');
    if (eq <= 0) usage(`${flag} "${spec.slice(0, 40)}" must look like key=value.`);
    return [spec.slice(0, eq), spec.slice(eq + 1)];
  };
  for (const spec of raw) {
    const [k, v] = split(spec, '-f');
    fields[k] = v;
  }
  for (const spec of typed) {
    const [k, v] = split(spec, '-F');
    if (v.startsWith('@')) fields[k] = await readSource(v.slice(1), `the value of ${k}`);
    else if (v === 'true' || v === 'false') fields[k] = v === 'true';
    else if (v === 'null') fields[k] = null;
    else if (/^-?\d+(\.\d+)?$/.test(v) && Number.isSafeInteger(Math.trunc(Number(v)))) fields[k] = Number(v);
    else fields[k] = v;
  }
  return fields;
}

function parseHeaders(specs: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):\s*(.*)$/.exec(spec);
    if (!m) usage(`-H "${spec.slice(0, 40)}" must look like 'Name: value'.`);
    const name = m[1]!.toLowerCase();
    if (name === 'authorization' || name === 'host')
      usage(`-H ${m[1]} is not allowed: Tokentray sets the ${m[1]} header itself.`);
    if (/[\r\n]/.test(m[2]!)) usage(`-H ${m[1]}: a header value cannot span lines.`);
    headers[name] = m[2]!;
  }
  return headers;
}

/** The token may only go to the account's own API origins: a typo cannot send it elsewhere. */
function resolveTarget(access: AccountAccess, target: string, workspace: string | undefined): string {
  let root = access.apiRoots[0]!;
  if (workspace !== undefined) {
    const found = access.apiRoots.find(
      (r) =>
        r.workspace === workspace || access.ctx.workspaces.some((w) => w.id === r.workspace && w.name === workspace),
    );
    if (!found) usage(`"${access.label}" has no workspace "${workspace.slice(0, 60)}" with its own API address.`);
    root = found;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      usage(`"${target.slice(0, 120)}" is not a valid URL.`);
    }
    if (!allowedOrigin(access, url.origin)) {
      usage(
        `${url.host} is not ${access.provider.name}'s API for "${access.label}" (${originsText(access)}); Tokentray sends the token only there. Give a path such as /api/v4/leads instead.`,
      );
    }
    return url.toString();
  }
  const path = target.startsWith('/') ? target : `/${target}`;
  return `${root.url}${path}`;
}

function allowedOrigin(access: AccountAccess, origin: string): boolean {
  return access.apiRoots.some((r) => new URL(r.url).origin === origin);
}

function originsText(access: AccountAccess): string {
  return [...new Set(access.apiRoots.map((r) => new URL(r.url).host))].join(', ');
}

/** A next-page link on another origin (amoCRM names its public host even behind --api-url) is rebased, never followed. */
function rebase(access: AccountAccess, next: string, current: string): string {
  const url = new URL(next);
  if (allowedOrigin(access, url.origin)) return next;
  const base = new URL(current);
  return `${base.origin}${url.pathname}${url.search}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class ApiSession {
  private refreshed = false;

  constructor(
    private readonly core: TokentrayCore,
    private access: AccountAccess,
    private readonly quiet: boolean,
  ) {}

  /** One request: waits out 429s per Retry-After, and on a 401 refreshes once and retries. */
  async exchange(
    method: Method,
    url: string,
    headers: Record<string, string>,
    body: string | null,
  ): Promise<HttpResponse> {
    const http = this.core.httpClient();
    for (let limited = 0; ;) {
      const res = await http.send({
        method,
        url,
        headers: { ...headers, authorization: this.access.authorization },
        body,
        rateKey: this.access.pacing.rateKey,
        requestsPerSecond: this.access.requestsPerSecond,
      });
      if (res.status === 429 || (this.access.pacing.isRateLimited?.(res) ?? false)) {
        const { retry, waitMs } = nextRetry(API_COMMAND_RETRY, limited, parseRetryAfter(res.headers, Date.now()));
        if (!retry) {
          throw new TokentrayError(
            'RATE_LIMITED',
            `${this.access.provider.name} is rate limiting requests; try again in ${Math.ceil(waitMs / 1000)} seconds.`,
            { retryAfterSeconds: Math.ceil(waitMs / 1000) },
          );
        }
        if (!this.quiet) say(`${this.access.provider.name} asks to slow down; waiting ${Math.ceil(waitMs / 1000)} s.`);
        await sleep(waitMs);
        limited += 1;
        continue;
      }
      if (res.status === 401 && !this.refreshed && this.access.ctx.tokens.refreshToken !== null) {
        // The token we believed valid was refused: one refresh (single flight, under the account lock), one
        // retry. Naming the refused token lets a refresh that someone else already made count instead.
        this.refreshed = true;
        await this.core.refresher.refreshAfterRejection(this.access.accountId, this.access.ctx.tokens.accessToken);
        this.access = await accountAccess(this.core, this.access.accountId);
        continue;
      }
      return res;
    }
  }
}

/** The body as the provider sent it, byte for byte, when stdout is not a terminal; pretty JSON (or defused text) on one. */
function writeResponse(res: HttpResponse, tty: boolean): void {
  if (!tty && res.text !== undefined) write(res.text, true);
  else write(render(res.body, tty));
}

function render(body: unknown, tty: boolean): string {
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return tty ? terminalSafe(body) : body;
  return tty ? jsonForTerminal(body, 2) : JSON.stringify(body);
}

function write(text: string, exact = false): void {
  if (text === '') return;
  process.stdout.write(exact || text.endsWith('\n') ? text : `${text}\n`);
}

export function registerApiCommand(program: Command, ctx: CliContext): void {
  program
    .command('api <account> <path-or-url>')
    .description("call the account's API with its token (base URL, Authorization, pacing and paging handled)")
    .option('-X, --method <method>', 'HTTP method (default GET, or POST when fields or --input are given)')
    .option(
      '-f, --raw-field <key=value>',
      'a string field of the JSON body (GET: a query parameter); repeatable',
      collect,
      [],
    )
    .option(
      '-F, --field <key=value>',
      'a typed field: true, false, null, numbers, @file or @- for a file’s text; repeatable',
      collect,
      [],
    )
    .option('--input <file>', 'the request body from a file, or - for standard input')
    .option('-H, --header <header>', "an extra request header, 'Name: value'; repeatable", collect, [])
    .option('--workspace <id-or-name>', 'the workspace whose API address to use (Basecamp: one per account)')
    .option(
      '--paginate',
      "follow the provider's paging (Link rel=next, HAL _links.next, last_page) and merge the pages",
    )
    .option('-i, --include', 'print the status line and response headers before the body')
    .option('--silent', 'print nothing on success')
    .action(async (ref: string, target: string, opts: ApiOptions) => {
      const fields = await buildFields(opts.rawField, opts.field);
      if (fields && opts.input !== undefined) usage('Use either fields (-f/-F) or --input, not both.');
      const method = (opts.method?.toUpperCase() ?? (fields || opts.input !== undefined ? 'POST' : 'GET')) as Method;
      if (!METHODS.includes(method))
        usage(`-X ${opts.method!.slice(0, 10)} is not supported; use ${METHODS.join(', ')}.`);
      const headers = parseHeaders(opts.header);
      const core = await ctx.getCore();
      const access = await accountAccess(core, ref);
      let url = resolveTarget(access, target, opts.workspace);
      let body: string | null = null;
      if (opts.input !== undefined) body = await readSource(opts.input, 'the input file');
      if (fields) {
        if (method === 'GET' || method === 'DELETE') {
          const u = new URL(url);
          for (const [k, v] of Object.entries(fields)) u.searchParams.append(k, v === null ? '' : String(v));
          url = u.toString();
        } else body = JSON.stringify(fields);
      }
      if (body !== null && !('content-type' in headers)) headers['content-type'] = 'application/json';

      const session = new ApiSession(core, access, opts.silent === true);
      const tty = process.stdout.isTTY === true;
      const pages: unknown[] = [];
      let last: HttpResponse | null = null;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await session.exchange(method, url, headers, page === 0 ? body : null);
        if (opts.include) {
          const head = [`HTTP ${res.status}`, ...Object.entries(res.headers).map(([k, v]) => `${k}: ${v}`), '', ''];
          write(tty ? terminalSafe(head.join('\n')) : head.join('\n'));
        }
        if (res.status >= 400) {
          if (!opts.silent) writeResponse(res, tty);
          say(
            `tokentray: ${access.provider.name} answered ${res.status} to ${method} ${new URL(url).pathname}${
              res.status === 401 ? '; if this persists, run `tokentray refresh` or reconnect the account' : ''
            }.`,
          );
          commandOutcome.exitCode = 1;
          return;
        }
        pages.push(res.body);
        if (!opts.paginate) last = res;
        const next = opts.paginate ? nextPageUrl(res, url) : null;
        if (next === null) break;
        url = rebase(access, next, url);
      }
      if (opts.silent) return;
      if (last !== null) writeResponse(last, tty);
      else write(render(mergePages(pages), tty));
    });
}
