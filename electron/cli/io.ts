import { isAbsolute } from 'node:path';
import { OPENABLE_URLS_TEXT, isOpenableUrl } from '../shared/endpoint-url';
import { TokentrayError } from '../core/errors';

/** Reads a secret from standard input: piped text as is, or typed at a prompt without echo. */
export async function readSecretFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (text: string): void => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          cleanup();
          process.stderr.write('\n');
          resolve(value.trim());
          return;
        }
        if (ch === '\u0003') {
          cleanup();
          process.stderr.write('\n');
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const cleanup = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

/**
 * Opens a URL in the user's browser without waiting for it, by the one rule for opened URLs
 * (https, or http on loopback): xdg-open, open and start hand any other scheme (file:,
 * ms-msdt:, …) to whatever program claims it, so those are refused, never spawned.
 */
export async function openInBrowser(url: string): Promise<void> {
  if (!isOpenableUrl(url)) {
    throw new TokentrayError(
      'PROVIDER_CONFIG_INVALID',
      `Tokentray opens only ${OPENABLE_URLS_TEXT} in your browser; this address was not opened.`,
    );
  }
  await spawnOpener(url);
}

/**
 * Opens a file Tokentray itself wrote (the development bridge's 0600 launch page) with the
 * desktop's opener. Only an absolute path: never a URL, so nothing from outside reaches here.
 */
export async function openLocalFile(path: string): Promise<void> {
  if (!isAbsolute(path)) throw new TokentrayError('INTERNAL', 'Only an absolute file path can be opened.');
  await spawnOpener(path);
}

/** The OS opener, detached, without waiting for the browser. */
async function spawnOpener(target: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [target]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', target.replace(/&/g, '^&')]]
        : ['xdg-open', [target]];
  await new Promise<void>((resolve) => {
    const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => resolve());
    child.on('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

export function relativeTime(targetMs: number, nowMs: number): string {
  const diff = targetMs - nowMs;
  const abs = Math.abs(diff);
  const minutes = Math.floor(abs / 60_000);
  let text: string;
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (minutes < 60) text = `${minutes} min`;
  else if (minutes < 48 * 60) text = `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  else text = `${Math.floor(minutes / 1440)} days`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** Aligned columns for people; every cell goes through `cellSafe`. */
export function table(input: string[][]): string {
  const rows = input.map((r) => r.map(cellSafe));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

// C0 controls but tab and newline, DEL, and C1 controls (U+0080–U+009F: 8-bit CSI/OSC/ST on some terminals),
// and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder
// what a terminal shows ("Trojan Source", CVE-2021-42574): a task title could make text read backwards.
const UNSAFE_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CELL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw but a terminal acts on: DEL, C1 and the bidi controls (C0 it escapes itself). */
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * JSON for a person's terminal: the same document (every value parses back unchanged), with
 * DEL, C1 and bidi controls written as `\\uXXXX` escapes instead of raw. They can occur only
 * inside strings, where the escape means the same character. Pipes and files get exact JSON.
 */
export function jsonForTerminal(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Text for a person's terminal. Provider text (task titles, workspace and user names,
 * error hints) and labels may carry escape sequences that recolour output, rewrite the
 * window title or write the clipboard (OSC 52); every control character but tab and
 * newline is shown as `\xNN` instead of being sent. JSON output does not use this: JSON
 * escapes control characters itself and must stay exact.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_CONTROLS, visible);
}

/** One table cell: like `terminalSafe`, and tab and newline too, so a value cannot break its row. */
export function cellSafe(text: string): string {
  return text.replace(CELL_CONTROLS, (ch) => (ch === '\t' || ch === '\n' ? ' ' : visible(ch)));
}
