import { Command, CommanderError } from 'commander';
import type { AccountSummary, AppError } from '../shared/models';
import { TokentrayError, exitCodeFor, toAppError } from '../core/errors';
import { accountAccess } from '../core/account-access';
import { TOKENTRAY_VERSION } from '../core/version';
import type { TokentrayCore } from '../core/service';
import type { TokentrayService } from '../core/service-api';
import { openInBrowser, readSecretFromStdin, relativeTime, table, terminalSafe } from './io';
import { out, outRaw, printJson, say } from './output';
import { commandOutcome } from './commands/context';
import { registerApiCommand } from './commands/api';
import { registerDoctorCommand } from './commands/doctor';
import { registerExecCommand } from './commands/exec';
import { sweepStaleHeaderDirs } from './commands/header-files';
import { registerImportCommand } from './commands/import';

/**
 * The `tokentray` command: a stable contract for scripts. stdout carries only
 * the requested data (the token alone for `token`); every message goes to stderr.
 */

let jsonMode = false;
let core: (TokentrayCore & TokentrayService) | null = null;

async function getCore(): Promise<TokentrayCore & TokentrayService> {
  if (!core) {
    const { createTokentrayCore } = await import('../core/create-core');
    core = await createTokentrayCore();
  }
  return core;
}

/** The store commands work on this machine's keychain and state directory, with or without a core. */
async function storeContext(): Promise<import('../core/store/store-commands').StoreCommandContext> {
  const [{ keychainServiceName, resolveStateDir }, { productSecretStore }] = await Promise.all([
    import('../core/paths'),
    import('../core/create-core'),
  ]);
  return { stateDir: resolveStateDir(), keychain: productSecretStore(keychainServiceName()) };
}

/** Where this machine's store keeps a client secret, for the sentence that says it was stored. */
async function secretHome(): Promise<string> {
  const [{ resolveStateDir }, { readStoreConfig }] = await Promise.all([
    import('../core/paths'),
    import('../core/store/store-config'),
  ]);
  const kind = readStoreConfig(resolveStateDir()).kind;
  return kind === 'file' ? 'the encrypted file store' : kind === 'postgres' ? 'the shared store' : 'the keychain';
}

/** Says, once, that a secret came on the command line (ps, /proc/<pid>/cmdline) and which option keeps it out. */
function warnSecretInArgv(what: string, instead: string): void {
  say(
    `tokentray: warning: ${what} on the command line can be read by other local users (ps, /proc) while this runs; use ${instead} instead.`,
  );
}

function connectionHasPassword(target: string): boolean {
  try {
    return new URL(target).password !== '';
  } catch {
    return false;
  }
}

function fail(error: AppError): never {
  throw new TokentrayError(
    error.code,
    error.message,
    error.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: error.retryAfterSeconds },
  );
}

function publicAccount(a: AccountSummary): Record<string, unknown> {
  return {
    id: a.id,
    provider: a.provider,
    label: a.label,
    status: a.status,
    expiresAt: a.expiresAt,
    lastRefreshAt: a.lastRefreshAt,
    scopes: a.scopes,
    workspaces: a.workspaces,
  };
}

function describeAccount(a: AccountSummary): string {
  const expiry =
    a.expiresAt === null ? 'never expires' : `expires ${relativeTime(Date.parse(a.expiresAt), Date.now())}`;
  const ws = a.workspaces.length > 0 ? `; workspaces: ${a.workspaces.map((w) => w.name).join(', ')}` : '';
  return `${a.providerName}: "${a.label}" (id ${a.id}), ${expiry}${ws}.`;
}

function positiveInt(value: string, name: string): number {
  if (!/^\d+$/.test(value))
    fail({ code: 'USAGE', message: `${name} must be a whole number of seconds, not "${value.slice(0, 20)}".` });
  return Number(value);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tokentray')
    .description('Fresh OAuth tokens for your work accounts, kept in the OS keychain.')
    .version(TOKENTRAY_VERSION)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeErr: (s) => process.stderr.write(terminalSafe(s)),
      writeOut: (s) => process.stdout.write(terminalSafe(s)),
    })
    .exitOverride();

  program
    .command('providers')
    .description('list providers and whether each is set up')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const providers = await (await getCore()).listProviders();
      if (opts.json) return printJson(providers);
      const rows = [['PROVIDER', 'NAME', 'SET UP', 'CONNECT WITH', 'REDIRECT URI TO REGISTER']];
      for (const p of providers)
        rows.push([
          p.id,
          p.kind === 'demo' ? `${p.name} (demo)` : p.name,
          p.configured ? 'yes' : 'no',
          p.methods.join(', '),
          p.redirectUri ?? '-',
        ]);
      out(table(rows));
    });

  const provider = program.command('provider').description('set up providers');
  provider
    .command('set <provider>')
    .description(
      "store your app's client id (and secret, in the keychain) for a provider; URL options override its endpoints",
    )
    .requiredOption('--client-id <id>', 'the client id of the app you registered')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .option('--redirect-uri <uri>', 'the redirect URI you registered')
    .option('--authorize-url <url>', 'override the authorization endpoint')
    .option('--token-url <url>', 'override the token endpoint')
    .option('--api-url <url>', 'override the API base (amoCRM/Kommo: replaces https://{host})')
    .option('--replace', 'change the endpoints of a provider that accounts use; they must then be reconnected')
    .action(
      async (
        id: string,
        opts: {
          clientId: string;
          clientSecretStdin?: boolean;
          redirectUri?: string;
          authorizeUrl?: string;
          tokenUrl?: string;
          apiUrl?: string;
          replace?: boolean;
        },
      ) => {
        const clientSecret = opts.clientSecretStdin ? await readSecretFromStdin('Client secret: ') : null;
        const summary = await (
          await getCore()
        ).setProvider(id, {
          clientId: opts.clientId,
          clientSecret,
          redirectUri: opts.redirectUri ?? null,
          authorizeUrl: opts.authorizeUrl ?? null,
          tokenUrl: opts.tokenUrl ?? null,
          apiUrl: opts.apiUrl ?? null,
          whenInUse: opts.replace ? 'replace' : 'keep-endpoints',
        });
        say(
          `${summary.name} is set up${clientSecret ? ` (client secret stored in ${await secretHome()})` : ''}.${summary.redirectUri ? ` Register this redirect URI with ${summary.name}: ${summary.redirectUri}` : ''}`,
        );
      },
    );
  provider
    .command('add <name>')
    .description('add a generic OAuth 2.0 / OpenID Connect provider from its discovery document')
    .requiredOption('--issuer <url>', 'the issuer URL')
    .requiredOption('--client-id <id>', 'the client id')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .option('--scope <scopes>', 'space-separated scopes to request')
    .option('--redirect-uri <uri>', 'the redirect URI you registered, e.g. a fixed-port http://127.0.0.1:PORT/callback')
    .option(
      '--revocation-url <url>',
      "the server's token revocation endpoint (RFC 7009), when its discovery document names none",
    )
    .option('--replace', 'replace a provider of that name that accounts use; they must then be reconnected')
    .action(
      async (
        name: string,
        opts: {
          revocationUrl?: string;
          issuer: string;
          clientId: string;
          clientSecretStdin?: boolean;
          scope?: string;
          redirectUri?: string;
          replace?: boolean;
        },
      ) => {
        const clientSecret = opts.clientSecretStdin ? await readSecretFromStdin('Client secret: ') : null;
        const summary = await (
          await getCore()
        ).addGenericProvider({
          name,
          issuer: opts.issuer,
          clientId: opts.clientId,
          clientSecret,
          ...(opts.scope ? { scopes: opts.scope.split(/\s+/).filter(Boolean) } : {}),
          ...(opts.redirectUri ? { redirectUri: opts.redirectUri } : {}),
          ...(opts.revocationUrl ? { revocationUrl: opts.revocationUrl } : {}),
          replace: opts.replace === true,
        });
        say(
          opts.redirectUri
            ? `Added ${summary.name}. Sign-ins will come back to ${summary.redirectUri ?? opts.redirectUri}, as registered.`
            : `Added ${summary.name}. Register this redirect URI with it (any port on 127.0.0.1 works for loopback): ${summary.redirectUri ?? '-'}`,
        );
      },
    );

  program
    .command('connect <provider>')
    .description('connect an account: browser sign-in (default), a pasted redirect URL or code, or a personal token')
    .option('--label <label>', 'a name for the account (default: the login name)')
    .option('--no-browser', 'print the sign-in URL instead of opening the browser')
    .option('--timeout <seconds>', 'how long to wait for the browser', '300')
    .option('--redirected-url <url>', 'finish a sign-in with the full URL the browser landed on')
    .option('--redirected-url-stdin', 'like --redirected-url, read from standard input (keeps it out of argv)')
    .option('--code <code>', 'finish with an authorization code (amoCRM/Kommo integration settings)')
    .option('--code-stdin', 'like --code, read from standard input (keeps it out of argv)')
    .option('--host <host>', 'the account host for a bare code or a long-lived token (amoCRM/Kommo)')
    .option('--token-stdin', 'read a personal / long-lived token from standard input')
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        opts: {
          label?: string;
          browser: boolean;
          timeout: string;
          redirectedUrl?: string;
          redirectedUrlStdin?: boolean;
          code?: string;
          codeStdin?: boolean;
          host?: string;
          tokenStdin?: boolean;
          json?: boolean;
        },
      ) => {
        const modes = [
          opts.redirectedUrl !== undefined,
          opts.redirectedUrlStdin === true,
          opts.code !== undefined,
          opts.codeStdin === true,
          opts.tokenStdin === true,
        ].filter(Boolean).length;
        if (modes > 1)
          fail({
            code: 'USAGE',
            message:
              'Use only one of --redirected-url, --redirected-url-stdin, --code, --code-stdin and --token-stdin.',
          });
        // A code (and the redirected URL carrying it) in argv is readable by every local user while this runs.
        if (opts.code !== undefined) warnSecretInArgv('--code', '--code-stdin');
        if (opts.redirectedUrl !== undefined) warnSecretInArgv('--redirected-url', '--redirected-url-stdin');
        if (opts.codeStdin) opts.code = await readSecretFromStdin('Authorization code: ');
        if (opts.redirectedUrlStdin) opts.redirectedUrl = await readSecretFromStdin('Redirected URL: ');
        const c = await getCore();
        let account: AccountSummary;
        if (opts.tokenStdin) {
          const token = await readSecretFromStdin('Token: ');
          account = await c.connectWithToken(id, token, {
            ...(opts.label ? { label: opts.label } : {}),
            ...(opts.host ? { host: opts.host } : {}),
          });
        } else if (opts.redirectedUrl !== undefined) {
          account = await c.completeConnectWithUrl(id, opts.redirectedUrl, opts.label ? { label: opts.label } : {});
        } else if (opts.code !== undefined) {
          account = await c.completeConnectWithCode(id, opts.code, {
            ...(opts.label ? { label: opts.label } : {}),
            ...(opts.host ? { host: opts.host } : {}),
          });
        } else {
          const timeoutMs = positiveInt(opts.timeout, '--timeout') * 1000;
          const attempt = await c.startConnect(id, { ...(opts.label ? { label: opts.label } : {}), timeoutMs });
          if (attempt.redirectUri === null) {
            say(
              `Open this URL, allow access, then run:\n  tokentray connect ${id} --redirected-url-stdin   (then paste the address you land on)\n\n${attempt.authorizeUrl}`,
            );
            attempt.cancel();
            return;
          }
          say(`Sign in to connect your account:\n${attempt.authorizeUrl}\n`);
          if (opts.browser) await openInBrowser(attempt.authorizeUrl);
          say(
            `Waiting up to ${Math.round(timeoutMs / 1000)} s for the browser to come back to ${attempt.redirectUri} … (Ctrl+C cancels)`,
          );
          const onInterrupt = (): void => attempt.cancel();
          process.once('SIGINT', onInterrupt);
          try {
            account = await attempt.result;
          } finally {
            process.off('SIGINT', onInterrupt);
          }
        }
        if (opts.json) printJson(publicAccount(account));
        else say(`Connected ${describeAccount(account)}`);
      },
    );

  program
    .command('accounts')
    .description('list connected accounts (offline)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const accounts = await (await getCore()).listAccounts();
      if (opts.json) return printJson(accounts.map(publicAccount));
      if (accounts.length === 0) {
        say('No accounts yet. Connect one with `tokentray connect <provider>` (try `tokentray connect demo`).');
        return;
      }
      const now = Date.now();
      const rows = [['ID', 'LABEL', 'PROVIDER', 'STATUS', 'EXPIRES', 'WORKSPACES']];
      for (const a of accounts) {
        rows.push([
          a.id,
          a.label,
          a.providerName,
          a.status,
          a.expiresAt === null ? 'never' : relativeTime(Date.parse(a.expiresAt), now),
          a.workspaces.map((w) => w.name).join(', ') || '-',
        ]);
      }
      out(table(rows));
      for (const a of accounts) if (a.statusDetail && a.status !== 'ok') say(`${a.label}: ${a.statusDetail}`);
    });

  program
    .command('token <account>')
    .description('print a valid access token (refreshing first when needed); <account> is an id or a unique label')
    .option('--min-valid <seconds>', 'refresh unless the token stays valid at least this long', '0')
    .option('--header', 'print the whole header, `Authorization: <scheme> <token>`, for `curl -H @-`')
    .option('--json', 'print {"token": "…"} ({"header": "…"} with --header); errors as a JSON object on stdout')
    .action(async (ref: string, opts: { minValid: string; header?: boolean; json?: boolean }) => {
      const minValidSeconds = positiveInt(opts.minValid, '--min-valid');
      const c = await getCore();
      if (opts.header) {
        const header = `Authorization: ${(await accountAccess(c, ref, { minValidSeconds })).authorization}`;
        if (opts.json) printJson({ header });
        else outRaw(header);
        return;
      }
      const token = await c.getAccessToken(ref, { minValidSeconds });
      if (opts.json) printJson({ token });
      else outRaw(token);
    });

  program
    .command('inspect <account>')
    .description('show expiry, scopes, JWT claims, last refresh and fingerprint, offline; never the token')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const info = await (await getCore()).inspect(ref);
      if (opts.json) return printJson(info);
      const now = Date.now();
      const when = (iso: string | null): string =>
        iso === null ? '-' : `${iso} (${relativeTime(Date.parse(iso), now)})`;
      const rows = [
        ['Account', `${info.label} (${info.accountId})`],
        ['Provider', info.provider],
        ['Status', info.statusDetail ? `${info.status}: ${info.statusDetail}` : info.status],
        ['Token', `${info.tokenKind}, fingerprint ${info.fingerprint}`],
        ['Issued', when(info.issuedAt)],
        ['Expires', info.expiresAt === null ? 'never' : when(info.expiresAt)],
        [info.canRefresh ? 'Refresh due' : 'Warn from', when(info.refreshDueAt)],
        ['Refresh token', info.hasRefreshToken ? 'stored in the keychain' : 'none'],
        ['Scopes', info.scopes.join(' ') || '-'],
        ['Last refresh', when(info.lastRefreshAt)],
      ];
      out(table(rows));
      if (info.jwt) {
        out('\nJWT claims:');
        const claimRows = Object.entries(info.jwt.claims).map(([k, v]) => {
          const text = typeof v === 'string' ? v : JSON.stringify(v);
          const isTime = ['exp', 'iat', 'nbf', 'auth_time'].includes(k) && typeof v === 'number';
          return [`  ${k}`, isTime ? `${text} (${new Date(v * 1000).toISOString()})` : text];
        });
        out(table(claimRows));
      }
      if (info.refreshHistory.length > 0) {
        out('\nRefresh history:');
        out(table(info.refreshHistory.map((e) => [`  ${e.at}`, e.outcome, e.code ?? ''])));
      }
    });

  program
    .command('refresh <account>')
    .description('refresh the access token now')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const account = await (await getCore()).refresh(ref);
      if (opts.json) printJson(publicAccount(account));
      else if (account.canRefresh) say(`Refreshed ${describeAccount(account)}`);
      else say(`${describeAccount(account)}: this token cannot be refreshed and is still valid; nothing to do.`);
    });

  program
    .command('disconnect <account>')
    .description('revoke (where the provider can) and delete the account from the keychain and Tokentray')
    .action(async (ref: string) => {
      await (await getCore()).disconnect(ref);
      say(`Disconnected ${ref}.`);
    });

  program
    .command('tasks <account>')
    .description("list the account's tasks; serves the last saved list when offline")
    .option('--json', 'machine-readable output')
    .option('--offline', 'do not use the network: show the saved list')
    .option('--full', 'read the whole account (notices deleted and moved tasks) instead of only what changed')
    .action(async (ref: string, opts: { json?: boolean; offline?: boolean; full?: boolean }) => {
      const list = await (await getCore()).tasks(ref, { offline: opts.offline === true, full: opts.full === true });
      if (list.offline) {
        // A list saved seconds ago is "from just now", not "from in 0 s".
        const age =
          list.ageSeconds === null
            ? 'unknown age'
            : list.ageSeconds < 45
              ? 'just now'
              : relativeTime(Date.now() - list.ageSeconds * 1000, Date.now());
        say(`Showing the saved task list from ${age}${list.error ? ` because: ${list.error.message}` : ''}.`);
      }
      // What the provider refused while the rest came (a workspace, a list), one sentence each.
      for (const skipped of list.skipped ?? []) say(`Skipped: ${skipped.message}`);
      // How fresh the list is: an incremental sync asked only for changes; deletions wait for a full read.
      if (!list.offline && list.syncMode === 'incremental' && list.fullWalkAt) {
        const walked = relativeTime(Date.parse(list.fullWalkAt), Date.now());
        say(`Synced the changes; the whole account was last read ${walked} (--full reads it again).`);
      }
      if (opts.json) return printJson(list);
      const rows = [['DUE', 'STATUS', 'PRIORITY', 'TITLE', 'PROJECT']];
      for (const t of list.tasks)
        rows.push([t.due?.date ?? '-', t.status, String(t.priority.level), t.title.slice(0, 60), t.project ?? '-']);
      out(table(rows));
      say(`${list.tasks.length} task${list.tasks.length === 1 ? '' : 's'}.`);
    });

  const store = program
    .command('store')
    .description('where tokens live: this keychain, an encrypted file store, or a shared PostgreSQL store');
  store
    .command('use [target]')
    .description(
      'use a shared store (postgres://…?sslmode=verify-full), `file` (an encrypted file store, for servers and CI) or `local` (the keychain; pulls accounts down)',
    )
    .option('--key-file <path>', 'team or file-store key file (created, mode 0600, when it does not exist yet)')
    .option('--url-stdin', 'read the postgres:// connection string from standard input (keeps a password out of argv)')
    .action(async (given: string | undefined, opts: { keyFile?: string; urlStdin?: boolean }) => {
      if ((given === undefined) === (opts.urlStdin !== true))
        fail({ code: 'USAGE', message: 'Name the store (postgres://…, file or local) or pass --url-stdin, not both.' });
      if (given !== undefined && connectionHasPassword(given))
        warnSecretInArgv('a password in the connection string', '--url-stdin');
      const target = given ?? (await readSecretFromStdin('Connection string: '));
      const commands = await import('../core/store/store-commands');
      const ctx = await storeContext();
      const keyFile = opts.keyFile ?? null;
      const lines =
        target === 'local'
          ? await commands.useLocal(ctx)
          : target === 'file'
            ? await commands.useFile(ctx, keyFile)
            : await commands.useShared(ctx, target, keyFile);
      for (const line of lines) say(line);
    });
  store
    .command('status')
    .description('which store this machine uses and whether it answers')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const s = await (await import('../core/store/store-commands')).status(await storeContext());
      if (opts.json) return printJson(s);
      if (s.kind === 'local') return out("Store: this machine's keychain (local).");
      if (s.kind === 'file')
        return out(
          table([
            ['Store', `encrypted file store in ${s.url ?? ''}`],
            ['Opens', s.reachable ? 'yes' : `no: ${s.detail ?? ''}`],
            ['Accounts', s.accounts === null ? '-' : String(s.accounts)],
          ]),
        );
      out(
        table([
          ['Store', `shared (PostgreSQL) ${s.url ?? ''}`],
          ['Reachable', s.reachable ? 'yes' : `no: shared store unreachable (${s.detail ?? ''})`],
          ['Schema version', s.schemaVersion === null ? '-' : String(s.schemaVersion)],
          ['Accounts', s.accounts === null ? '-' : String(s.accounts)],
        ]),
      );
    });
  store
    .command('push')
    .description("move this machine's accounts into the shared store")
    .action(async () => {
      for (const line of await (await import('../core/store/store-commands')).push(await storeContext())) say(line);
    });
  store
    .command('rotate-key')
    .description('re-encrypt everything in the shared store under a new team key')
    .requiredOption('--new-key-file <path>', 'where to write the new team key (must not exist yet)')
    .action(async (opts: { newKeyFile: string }) => {
      const commands = await import('../core/store/store-commands');
      for (const line of await commands.rotateKey(await storeContext(), opts.newKeyFile)) say(line);
    });

  program
    .command('demo-remove')
    .description('remove the built-in demo provider and its accounts')
    .action(async () => {
      await (await getCore()).removeDemo();
      say('The demo provider and its accounts were removed.');
    });

  registerExecCommand(program, { getCore });
  registerImportCommand(program, { getCore });
  registerApiCommand(program, { getCore });
  registerDoctorCommand(program);

  return program;
}

function emitError(error: AppError): void {
  say(`tokentray: ${error.message}`);
  if (jsonMode) printJson({ error });
}

export async function main(argv: string[]): Promise<number> {
  // A `--json` after `--` belongs to the command `tokentray exec` runs, not to us.
  const end = argv.indexOf('--');
  jsonMode = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  const program = buildProgram();
  try {
    // Header files a SIGKILLed `tokentray exec` could not delete go now (never fails the command).
    await sweepStaleHeaderDirs();
    await program.parseAsync(argv);
    return commandOutcome.exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      if (jsonMode) printJson({ error: { code: 'USAGE', message: error.message } });
      return 2;
    }
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL' && process.env['TOKENTRAY_DEBUG'] === '1')
      say(String((error as Error)?.stack ?? error));
    emitError(appError);
    return exitCodeFor(appError.code);
  } finally {
    if (core) await core.close().catch(() => undefined);
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
