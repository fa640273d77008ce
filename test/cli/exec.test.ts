import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envNameFromLabel, parseEnvSpec } from '../../electron/cli/commands/exec';
import type { ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { connectPersonalAndOauth, startClickupCore } from '../support/clickup-core';
import { CLI, runCli, spawnCaptured, type CliResult } from '../support/cli';
import { readAllFiles, type TestCore } from '../support/test-core';

let emu: ClickupEmulatorHandle;
let t: TestCore;
let personal: string;
let oauthToken: string;
let scratch: string;
const printed: string[] = [];

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  ({ emu, t } = await startClickupCore());
  ({ personal, oauthToken } = await connectPersonalAndOauth(emu, t));
  scratch = mkdtempSync(join(tmpdir(), 'tokentray-exec-test-'));
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
  rmSync(scratch, { recursive: true, force: true });
});

function exec(args: string[], onSpawn?: (pid: number, stdout: () => string) => void): Promise<CliResult> {
  const { child, output, done } = spawnCaptured(process.execPath, [CLI, 'exec', ...args], t);
  onSpawn?.(child.pid!, output);
  return done.then((r) => {
    printed.push(r.stdout, r.stderr);
    return r;
  });
}

/** Polls for up to 45 s (a loaded machine starts node slowly); `detail` says what was seen instead. */
async function until(check: () => boolean, what: string, detail: () => string = () => ''): Promise<void> {
  for (let i = 0; i < 900; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${detail() ? `; seen: ${detail()}` : ''}`);
}

/** A node one-liner for the child; it prints digests, never a token. */
const node = (script: string): string[] => ['--', process.execPath, '-e', script];

describe('tokentray exec', () => {
  it('puts fresh tokens in the environment, names them from the label by default, and keeps argv clean', async () => {
    const script = `const h = (s) => require('crypto').createHash('sha256').update(s ?? '').digest('hex');
      console.log(JSON.stringify({ pid: process.pid, a: h(process.env.CU), b: h(process.env.WORK_PK_TOKEN) }));
      setTimeout(() => {}, 60000); process.on('SIGTERM', () => process.exit(0));`;
    let seen: { pid: number; a: string; b: string } | null = null;
    let cmdlines = '';
    const r = await exec(['--env', 'CU=work-oauth:60', '--env', 'work-pk', ...node(script)], (pid, stdout) => {
      void until(() => stdout().includes('}'), 'the child').then(() => {
        seen = JSON.parse(stdout()) as { pid: number; a: string; b: string };
        // What every local user can read: the command lines of tokentray and of the command it runs.
        cmdlines = readFileSync(`/proc/${pid}/cmdline`, 'utf8') + readFileSync(`/proc/${seen.pid}/cmdline`, 'utf8');
        process.kill(pid, 'SIGTERM');
      });
    });
    expect(r.code, r.stderr).toBe(0);
    expect(seen).toMatchObject({ a: sha(oauthToken), b: sha(personal) });
    expect(cmdlines).toContain('process.env.CU');
    expect(cmdlines).not.toContain(oauthToken);
    expect(cmdlines).not.toContain(personal);
  });

  it("exits with the command's exit code", async () => {
    const r = await exec(['--env', 'CU=work-oauth', ...node('process.exit(7)')]);
    expect(r.code).toBe(7);
    expect((await exec(['--env', 'CU=work-oauth', '--', 'no-such-command-tokentray'])).code).toBe(127);
  });

  it('forwards a signal it receives to the command, and dies of the signal the command died of', async () => {
    const marker = join(scratch, 'got-signal');
    const script = `process.on('SIGHUP', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'HUP'); process.exit(3); });
      console.log('ready'); setTimeout(() => {}, 60000);`;
    const r = await exec(['--env', 'CU=work-oauth', ...node(script)], (pid, stdout) => {
      void until(() => stdout().includes('ready'), 'the child').then(() => process.kill(pid, 'SIGHUP'));
    });
    expect(readFileSync(marker, 'utf8')).toBe('HUP');
    expect(r.code).toBe(3);
    const killed = await exec(['--env', 'CU=work-oauth', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.signal).toBe('SIGTERM');
  });

  it('does not start the command when any token cannot be had', async () => {
    const marker = join(scratch, 'started');
    const args = ['--', 'sh', '-c', `touch ${marker}`];
    const missing = await exec(['--env', 'CU=work-oauth', '--env', 'X=nobody', ...args]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No account is called "nobody"/);
    // A --json meant for the command does not turn tokentray's own error into JSON on stdout.
    const withJson = await exec(['--env', 'X=nobody', '--', 'sh', '-c', `touch ${marker}`, '--json']);
    expect(withJson.code).toBe(1);
    expect(withJson.stdout).toBe('');
    expect(existsSync(marker)).toBe(false);
    // An account whose token has run out and cannot be refreshed: asking for it needs a reconnect.
    const dead = await t.core.connectWithToken('clickup', emu.issuePersonalToken('carol'), { label: 'dead-pk' });
    const { meta, secret } = await t.core.repo.load(dead.id);
    await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 1000 } });
    const expired = await exec(['--env', 'CU=work-pk', '--env', 'D=dead-pk', ...args]);
    expect(expired.code).toBe(3);
    expect(expired.stderr).toMatch(/reconnect/i);
    expect(existsSync(marker)).toBe(false);
    const usage = await exec(['--env', '1BAD=work-pk', ...args]);
    expect(usage.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it('writes --header-file for `curl -H @file` and removes it afterwards', async () => {
    const r = await exec([
      '--header-file',
      'H=work-pk',
      '--',
      'sh',
      '-c',
      'stat -c %a "$H"; sha256sum < "$H" | cut -d" " -f1; echo "$H"',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [mode, digest, path] = r.stdout.trim().split('\n');
    expect(mode).toBe('600');
    expect(digest).toBe(sha(`Authorization: ${personal}\n`));
    expect(existsSync(path!)).toBe(false);
  });

  it("leaves a SIGKILLed run's header file while its command runs, and the next tokentray run deletes it after", async () => {
    // The command prints its PID and the file's path, then waits to be told to end.
    // A string, not a number: with FORCE_COLOR set (CI) console.log paints numbers in ANSI colours.
    const script = `console.log(String(process.pid)); console.log(process.env.H); setTimeout(() => {}, 60000);
      process.on('SIGTERM', () => process.exit(0));`;
    const { child, output, done } = spawnCaptured(
      process.execPath,
      [CLI, 'exec', '--header-file', 'H=work-pk', ...node(script)],
      t,
    );
    let ended: CliResult | null = null;
    void done.then((r) => (ended = r));
    // Both whole lines, not just two pieces of the first: a loaded machine delivers stdout in bits.
    const printed = /^(\d+)\n(\/\S+)\n/;
    await until(
      () => printed.test(output()) || ended !== null,
      'the command',
      () => JSON.stringify(output()),
    );
    expect(ended, `tokentray exec ended before its command printed: ${JSON.stringify(ended)}`).toBeNull();
    const [, pidLine = '', path = ''] = printed.exec(output())!;
    const childPid = Number(pidLine);
    // 'exit', not 'close': the orphaned command keeps the output pipe open.
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(path)).toBe(true);
    // The orphaned command may still read it: a run now must leave it alone.
    const during = await runCli(['accounts', '--json'], t);
    expect(during.code, during.stderr).toBe(0);
    expect(existsSync(path)).toBe(true);
    process.kill(childPid, 'SIGTERM');
    await until(() => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the command to end');
    const after = await runCli(['accounts', '--json'], t);
    expect(after.code, after.stderr).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(dirname(path))).toBe(false);
    await done;
  });

  it('parses --env specs', () => {
    expect(parseEnvSpec('A=work:600', 'env')).toEqual({ kind: 'env', name: 'A', account: 'work', minValid: 600 });
    expect(parseEnvSpec('work-amo', 'env')).toMatchObject({ name: null, account: 'work-amo', minValid: 0 });
    expect(envNameFromLabel('work-amo')).toBe('WORK_AMO_TOKEN');
    expect(envNameFromLabel('Alice Smith (Acme)')).toBe('ALICE_SMITH_ACME_TOKEN');
    expect(envNameFromLabel('2024 crm')).toBe('_2024_CRM_TOKEN');
  });

  it('never printed a token itself, nor left one in a file', async () => {
    const all = printed.join('\n') + (await readAllFiles(t.home));
    expect(all).not.toContain(oauthToken);
    expect(all).not.toContain(personal);
  });
});
