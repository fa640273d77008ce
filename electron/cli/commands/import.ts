import type { Command } from 'commander';
import { parseTokenFile } from '../../core/connect/token-file';
import { TokentrayError } from '../../core/errors';
import type { AccountSummary } from '../../shared/models';
import { relativeTime } from '../io';
import { printJson, say } from '../output';
import { commandOutcome, type CliContext } from './context';
import { ImportFile } from './import-file';

/**
 * `tokentray import <provider> <file>`: moves a token file an older tool left
 * behind (a cron job's amoCRM tokens.json, TickTick's .token-oauth, …) into the
 * keychain, after the provider confirms the token, and can shred the file.
 */

export function registerImportCommand(program: Command, ctx: CliContext): void {
  program
    .command('import <provider> <file>')
    .description(
      "store the token from an old tool's token file (amoCRM/Kommo token JSON, TickTick .token-oauth, Basecamp/ClickUp token JSON) after the provider confirms it",
    )
    .option('--host <host>', "the amoCRM/Kommo account's host, when the file does not say (example.amocrm.ru)")
    .option('--label <label>', 'a name for the account (default: the login name)')
    .option('--remove-file', 'once the keychain holds the token, overwrite the file and delete it')
    .option('--json', 'machine-readable output')
    .action(
      async (
        providerId: string,
        path: string,
        opts: { host?: string; label?: string; removeFile?: boolean; json?: boolean },
      ) => {
        let source: ImportFile;
        try {
          // One handle for the read and, with --remove-file, the removal (import-file.ts says why).
          source = await ImportFile.open(path, { forRemoval: opts.removeFile === true });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
          throw new TokentrayError(
            'USAGE',
            `Cannot read "${path.slice(0, 200)}" (${code}); give the token file's path.`,
          );
        }
        let removed = false;
        /** Why the file asked to be removed was kept (the import itself succeeded). */
        let kept: string | null = null;
        let account: AccountSummary;
        let refresh: boolean;
        try {
          const file = parseTokenFile(source.text, source.writtenAt);
          const core = await ctx.getCore();
          account = await core.importTokens(providerId, file, {
            issuedAt: source.writtenAt,
            ...(opts.label ? { label: opts.label } : {}),
            ...(opts.host ? { host: opts.host } : {}),
          });
          // Only shred the plaintext once the keychain demonstrably holds the same token.
          const stored = await core.repo.load(account.id);
          refresh = stored.secret.tokens.refreshToken !== null;
          if (opts.removeFile) {
            kept =
              stored.secret.tokens.accessToken === file.accessToken
                ? await source.remove()
                : `The keychain does not hold the token from ${path}, so the file was kept.`;
            removed = kept === null;
          }
        } finally {
          await source.close();
        }
        // The account is imported, but a file the user asked to be removed still holds the token.
        if (kept !== null) commandOutcome.exitCode = 1;
        if (opts.json) {
          printJson({
            id: account.id,
            provider: account.provider,
            label: account.label,
            expiresAt: account.expiresAt,
            hasRefreshToken: refresh,
            fileRemoved: removed,
            ...(kept !== null ? { fileKept: kept } : {}),
          });
        }
        const expiry =
          account.expiresAt === null
            ? 'does not expire'
            : `expires ${relativeTime(Date.parse(account.expiresAt), Date.now())}`;
        say(
          `Imported ${account.providerName}: "${account.label}" (id ${account.id}), ${expiry}, ${
            refresh ? 'with a refresh token' : 'without a refresh token'
          }.`,
        );
        if (refresh) {
          say(
            `Stop the old cron job or script that refreshed this token now: Tokentray refreshes it from here on, and a second refresher would spend ${account.providerName}'s refresh token (amoCRM/Kommo's works once) and lose the account.`,
          );
        } else if (account.expiresAt !== null) {
          say(
            `${account.providerName} issues no refresh token here: Tokentray warns before it expires and offers to reconnect.`,
          );
        }
        say(
          removed
            ? `The file ${path} was overwritten and deleted.`
            : kept !== null
              ? `tokentray: ${kept} It still holds the token in plain text.`
              : `The file ${path} still holds the token in plain text; delete it (or run the import again with --remove-file).`,
        );
        say(
          `Scripts now ask for it with \`tokentray token ${account.label}\`, \`tokentray exec\` or \`tokentray api\`.`,
        );
      },
    );
}
