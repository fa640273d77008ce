import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { accountAccess } from '../../core/account-access';
import { TokentrayError } from '../../core/errors';
import { say } from '../output';
import { collect, commandOutcome, type CliContext } from './context';
import { createHeaderDir, recordHeaderDirChild } from './header-files';

/**
 * `tokentray exec`: runs a command with fresh tokens in its environment (like
 * `op run` and `aws-vault exec`), never on its command line, where other local
 * users could read them in /proc/<pid>/cmdline. Every token is fetched before
 * the command starts; if one cannot be had, the command is not started at all.
 */

interface EnvRequest {
  kind: 'env' | 'header-file';
  name: string | null;
  account: string;
  minValid: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

function usage(message: string): never {
  throw new TokentrayError('USAGE', message);
}

/** `NAME=account[:min-valid]`, or `account[:min-valid]` (the name then comes from the label). */
export function parseEnvSpec(spec: string, kind: EnvRequest['kind']): EnvRequest {
  const eq = spec.indexOf('=');
  const name = eq === -1 ? null : spec.slice(0, eq);
  let account = eq === -1 ? spec : spec.slice(eq + 1);
  let minValid = 0;
  const m = /^(.*):(\d+)$/.exec(account);
  if (m && kind === 'env') {
    account = m[1]!;
    minValid = Number(m[2]);
  }
  const option = kind === 'env' ? '--env' : '--header-file';
  if (name !== null && !ENV_NAME.test(name))
    usage(
      `${option} "${spec.slice(0, 40)}": "${name.slice(0, 40)}" is not a valid variable name (letters, digits, _).`,
    );
  if (account === '') usage(`${option} "${spec.slice(0, 40)}" names no account; write NAME=account.`);
  if (kind === 'header-file' && name === null) usage(`${option} needs a variable name: NAME=account.`);
  return { kind, name, account, minValid };
}

/** `work-amo` → `WORK_AMO_TOKEN`. */
export function envNameFromLabel(label: string): string {
  const base = label
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (base === '') return 'TOKEN';
  return `${/^[0-9]/.test(base) ? '_' : ''}${base}_TOKEN`;
}

export function registerExecCommand(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command with fresh tokens in its environment, never on its command line')
    .argument('<command...>', 'the command and its arguments, after --')
    .option(
      '--env <NAME=account[:min-valid]>',
      'put the access token in $NAME (repeatable; NAME defaults from the label, e.g. WORK_AMO_TOKEN)',
      collect,
      [],
    )
    .option(
      '--header-file <NAME=account>',
      'write `Authorization: …` to a private temporary file for `curl -H @"$NAME"`, removed afterwards (repeatable)',
      collect,
      [],
    )
    .usage('[--env NAME=account[:min-valid]]… [--header-file NAME=account]… -- command [args…]')
    .action(async (command: string[], opts: { env: string[]; headerFile: string[] }) => {
      const requests = [
        ...opts.env.map((s) => parseEnvSpec(s, 'env')),
        ...opts.headerFile.map((s) => parseEnvSpec(s, 'header-file')),
      ];
      if (requests.length === 0)
        usage('Name at least one token to pass: --env NAME=account or --header-file NAME=account.');
      const core = await ctx.getCore();
      const env: Record<string, string> = {};
      let headerDir: string | null = null;
      try {
        // Every token first: a script must not start half-authorised.
        for (const r of requests) {
          const access = await accountAccess(core, r.account, { minValidSeconds: r.minValid });
          const name = r.name ?? envNameFromLabel(access.label);
          if (name in env)
            usage(`Two tokens would both go into $${name}; give one of them another name with NAME=account.`);
          if (r.kind === 'env') {
            env[name] = access.ctx.tokens.accessToken;
          } else {
            headerDir ??= await createHeaderDir();
            const file = join(headerDir, `${name}.header`);
            await writeFile(file, `Authorization: ${access.authorization}\n`, { mode: 0o600 });
            env[name] = file;
          }
        }
        await core.close();
        const dir = headerDir;
        const outcome = await run(command, env, (pid) => {
          if (dir !== null) void recordHeaderDirChild(dir, pid).catch(() => undefined);
        });
        if (outcome.signal) {
          if (headerDir) await rm(headerDir, { recursive: true, force: true });
          headerDir = null;
          // Die the way the command died, so callers (shells, supervisors) see the signal.
          for (const s of FORWARDED) process.removeAllListeners(s);
          process.kill(process.pid, outcome.signal);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          // Still here (a signal Node handles itself): the shell convention instead.
          commandOutcome.exitCode = 128 + (constants.signals[outcome.signal] ?? 0);
          return;
        }
        commandOutcome.exitCode = outcome.code ?? 1;
      } finally {
        if (headerDir) await rm(headerDir, { recursive: true, force: true });
      }
    });
}

function run(
  command: string[],
  extra: Record<string, string>,
  onStart: (pid: number | undefined) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...extra } });
    child.once('spawn', () => onStart(child.pid));
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    const stop = (): void => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      stop();
      if (error.code === 'ENOENT') {
        say(`tokentray: ${command[0]!.slice(0, 80)}: command not found.`);
        resolve({ code: 127, signal: null });
      } else if (error.code === 'EACCES') {
        say(`tokentray: ${command[0]!.slice(0, 80)}: permission denied.`);
        resolve({ code: 126, signal: null });
      } else reject(error);
    });
    child.on('exit', (code, signal) => {
      stop();
      resolve({ code, signal });
    });
  });
}
