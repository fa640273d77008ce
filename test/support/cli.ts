import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('dist/cli/tokentray.cjs');

export interface CliResult {
  code: number;
  /** The signal that ended the process, if one did (then `code` is -1). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface TestEnv {
  home: string;
  service: string;
  extra?: Record<string, string>;
}

/**
 * Starts a command with a test home and keychain service and collects what it prints; `output`
 * reads stdout so far, `done` resolves when it has exited. Stdin gets `stdin` then EOF, or nothing.
 */
export function spawnCaptured(
  command: string,
  args: string[],
  env: TestEnv,
  stdin?: string,
): { child: ChildProcess; output(): string; done: Promise<CliResult> } {
  const child = spawn(command, args, {
    env: { ...process.env, TOKENTRAY_HOME: env.home, TOKENTRAY_KEYCHAIN_SERVICE: env.service, ...env.extra },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? -1, signal, stdout, stderr }));
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  return { child, output: () => stdout, done };
}

/** Runs the built `tokentray` with a test home and keychain service; optional stdin. */
export function runCli(args: string[], env: TestEnv, stdin?: string): Promise<CliResult> {
  // An empty stdin that ends at once, as before: commands that may read stdin see EOF, never a hang.
  return spawnCaptured(process.execPath, [CLI, ...args], env, stdin ?? '').done;
}

/**
 * Starts the built `tokentray` and hands back the process too, for tests that signal it mid-run
 * (SIGSTOP, SIGKILL); `done` resolves when it has exited.
 */
export function startCli(args: string[], env: TestEnv): { child: ChildProcess; done: Promise<CliResult> } {
  const { child, done } = spawnCaptured(process.execPath, [CLI, ...args], env);
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
