import { open, readFile, stat, unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseTokenFile } from '../../core/connect/token-file';
import { TokentrayError } from '../../core/errors';
import { relativeTime } from '../io';
import { printJson, say } from '../output';
import type { CliContext } from './context';

/**
 * `tokentray import <provider> <file>`: moves a token file an older tool left
 * behind (a cron job's amoCRM tokens.json, TickTick's .token-oauth, …) into the
 * keychain, after the provider confirms the token, and can shred the file.
 */

/** Overwrites the file's bytes in place (fsynced), then deletes it. */
export async function shredFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const zeros = Buffer.alloc(Math.min(size, 1024 * 1024));
    for (let offset = 0; offset < size; offset += zeros.length)
      await handle.write(zeros, 0, Math.min(zeros.length, size - offset), offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await unlink(path);
}

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
        let text: string;
        let writtenAt: number;
        try {
          writtenAt = (await stat(path)).mtimeMs;
          text = await readFile(path, 'utf8');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
          throw new TokentrayError(
            'USAGE',
            `Cannot read "${path.slice(0, 200)}" (${code}); give the token file's path.`,
          );
        }
        const file = parseTokenFile(text, writtenAt);
        const core = await ctx.getCore();
        const account = await core.importTokens(providerId, file, {
          issuedAt: writtenAt,
          ...(opts.label ? { label: opts.label } : {}),
          ...(opts.host ? { host: opts.host } : {}),
        });
        // Only shred the plaintext once the keychain demonstrably holds the same token.
        const stored = await core.repo.load(account.id);
        const held = stored.secret.tokens.accessToken === file.accessToken;
        let removed = false;
        if (opts.removeFile) {
          if (!held)
            throw new TokentrayError('INTERNAL', 'The keychain does not hold the imported token; the file was kept.');
          await shredFile(path);
          removed = true;
        }
        const refresh = stored.secret.tokens.refreshToken !== null;
        if (opts.json) {
          printJson({
            id: account.id,
            provider: account.provider,
            label: account.label,
            expiresAt: account.expiresAt,
            hasRefreshToken: refresh,
            fileRemoved: removed,
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
            : `The file ${path} still holds the token in plain text; delete it (or run the import again with --remove-file).`,
        );
        say(
          `Scripts now ask for it with \`tokentray token ${account.label}\`, \`tokentray exec\` or \`tokentray api\`.`,
        );
      },
    );
}
