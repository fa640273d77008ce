import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('dist/cli/tokentray.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `tokentray` with a test home and keychain service; optional stdin. */
export function runCli(
  args: string[],
  env: { home: string; service: string; extra?: Record<string, string> },
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TOKENTRAY_HOME: env.home, TOKENTRAY_KEYCHAIN_SERVICE: env.service, ...env.extra },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/**
 * Starts the built `tokentray` and hands back the process too, for tests that signal it mid-run
 * (SIGSTOP, SIGKILL); `done` resolves when it has exited.
 */
export function startCli(
  args: string[],
  env: { home: string; service: string; extra?: Record<string, string> },
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TOKENTRAY_HOME: env.home, TOKENTRAY_KEYCHAIN_SERVICE: env.service, ...env.extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolvePromise) =>
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr })),
  );
  return { child, done };
}

/** `tokentray provider set amocrm …` pointed at an amoCRM emulator; the secret goes on stdin. */
export function amocrmSetArgs(emu: { clientId: string; url: string }, redirectUri: string): string[] {
  return [
    'provider',
    'set',
    'amocrm',
    '--client-id',
    emu.clientId,
    '--client-secret-stdin',
    '--redirect-uri',
    redirectUri,
    '--authorize-url',
    `${emu.url}/oauth`,
    '--api-url',
    emu.url,
  ];
}
