import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { runDoctor } from '../../core/doctor/doctor';
import type { DoctorReport } from '../../core/doctor/doctor-report';
import { probeKeychainHere, sessionBusProblem, type KeychainProbe } from '../../core/doctor/keychain-probe';
import { keychainServiceName, resolveStateDir } from '../../core/paths';
import { relativeTime, table } from '../io';
import { out, outRaw, printJson } from '../output';
import { commandOutcome } from './context';

/** How long the keychain may take to answer the probe before it counts as not answering. */
const KEYCHAIN_PROBE_MS = 8_000;
const PROBE_COMMAND = '__keychain-probe';

/**
 * The keychain probe in a child process, killed after KEYCHAIN_PROBE_MS: a Secret Service that
 * hangs (a D-Bus autolaunch waiting on a dead X display, a frozen daemon) cannot hold `doctor` up,
 * and no keychain call of its is left pending in this process. With no session bus at all the
 * child is not even started.
 */
async function probeKeychainInChild(service: string): Promise<KeychainProbe> {
  const noBus = process.platform === 'linux' ? sessionBusProblem() : null;
  if (noBus !== null) return { state: 'absent', detail: noBus, names: null };
  const script = process.argv[1];
  if (script === undefined || process.versions['electron'] !== undefined) return probeKeychainHere(service);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, PROBE_COMMAND, service], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), KEYCHAIN_PROBE_MS);
    child.on('error', () => undefined);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout) as KeychainProbe);
      } catch {
        resolve({
          state: 'no-answer',
          detail: `the keychain did not answer within ${KEYCHAIN_PROBE_MS / 1000} s`,
          names: null,
        });
      }
    });
  });
}

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');

function storeLine(r: DoctorReport): string {
  const s = r.store;
  const what =
    s.kind === 'local'
      ? `the keychain (service ${r.keychain.service})`
      : s.kind === 'file'
        ? `encrypted file store in ${s.where ?? ''}`
        : `shared (PostgreSQL) ${s.where ?? ''}${s.schemaVersion === null ? '' : `, schema ${s.schemaVersion}`}`;
  const key = s.key === null ? '' : `; key: ${s.key.path} (${s.key.from})`;
  const state = s.answers
    ? `answers, ${s.accounts ?? 0} account${s.accounts === 1 ? '' : 's'}${s.detail ? ` (${s.detail})` : ''}`
    : `DOES NOT ANSWER: ${s.detail ?? ''}`;
  return `${what}${key}: ${state}`;
}

function keychainLine(r: DoctorReport): string {
  const k = r.keychain;
  const state = k.state === 'ok' ? 'answers, unlocked' : `${k.state}${k.detail ? ` (${k.detail})` : ''}`;
  return `${state}${k.needed ? '' : '; not needed by the store in use'}`;
}

/** One screen for a person; every cell through the table's sanitizer. */
export function renderDoctor(r: DoctorReport, now: number): string {
  const lines: string[] = [];
  lines.push(
    table([
      [
        'Versions',
        `Tokentray ${r.versions.tokentray}, Node ${r.versions.node}${r.versions.electron ? `, Electron ${r.versions.electron}` : ''}`,
      ],
      ['Store', storeLine(r)],
      ['Keychain', keychainLine(r)],
    ]),
  );
  lines.push('', 'Folders');
  lines.push(
    table([
      ['  ROLE', 'PATH', 'MODE', 'YOURS', 'CHECK'],
      ...r.directories.map((d) => [
        `  ${d.role}`,
        d.path,
        d.mode ?? '-',
        d.ownedByYou === null ? '-' : yesNo(d.ownedByYou),
        d.exists ? (d.problem === null ? 'ok' : 'PROBLEM') : 'not created yet',
      ]),
    ]),
  );
  lines.push('', 'Providers');
  lines.push(
    table([
      ['  PROVIDER', 'SET UP', 'CLIENT ID', 'SECRET', 'TOKEN ENDPOINT', 'API'],
      ...r.providers.map((p) => [
        `  ${p.id}`,
        yesNo(p.configured),
        p.kind === 'demo' ? '(demo)' : (p.clientId ?? '-'),
        p.hasClientSecret ? 'stored' : '-',
        p.kind === 'demo' ? 'in-process' : (p.endpoints?.tokenUrl ?? '-'),
        p.kind === 'demo' ? 'in-process' : (p.endpoints?.apiUrl ?? '-'),
      ]),
    ]),
  );
  lines.push('', 'Accounts');
  if (r.accounts.length === 0) lines.push('  none connected');
  else
    lines.push(
      table([
        ['  LABEL', 'PROVIDER', 'STATUS', 'EXPIRES', 'REFRESH TOKEN', 'CAN REFRESH'],
        ...r.accounts.map((a) => [
          `  ${a.label}`,
          a.provider,
          a.status,
          a.expiresAt === null ? 'never' : relativeTime(Date.parse(a.expiresAt), now),
          yesNo(a.hasRefreshToken),
          a.refreshable ? 'yes' : a.refreshProblem === null ? 'not needed' : 'no',
        ]),
      ]),
    );
  lines.push('');
  if (r.problems.length === 0) lines.push('Everything Tokentray needs here is usable.');
  else {
    lines.push(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} (exit ${r.exitCode}):`);
    for (const p of r.problems) lines.push(`  - ${p.where}: ${p.message}`);
  }
  return lines.join('\n');
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the store, keychain, folders, providers and accounts; exit 0 when all is usable')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const service = keychainServiceName();
      const { productSecretStore } = await import('../../core/create-core');
      const report = await runDoctor({
        stateDir: resolveStateDir(),
        keychainService: service,
        probeKeychain: () => probeKeychainInChild(service),
        keychain: productSecretStore(service),
      });
      if (opts.json) printJson(report);
      else out(renderDoctor(report, Date.now()));
      commandOutcome.exitCode = report.exitCode;
    });
  // The child `doctor` starts to ask the keychain (above); not for people.
  program
    .command(`${PROBE_COMMAND} <service>`, { hidden: true })
    .action(async (service: string) => outRaw(JSON.stringify(await probeKeychainHere(service))));
}
