import { jsonForTerminal, terminalSafe } from './io';

/**
 * The CLI's two streams. stdout carries only the data asked for; stderr carries
 * every message. Human text goes through `terminalSafe`; data meant for programs
 * (JSON, a token, an API body) goes out exactly as it is with `outRaw`.
 */
export function out(text: string): void {
  outRaw(terminalSafe(text));
}

export function outRaw(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function say(text: string): void {
  const safe = terminalSafe(text);
  process.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Exact JSON for programs; on a terminal, with the controls JSON leaves raw escaped (same document). */
export function printJson(value: unknown): void {
  outRaw(process.stdout.isTTY === true ? jsonForTerminal(value, 2) : JSON.stringify(value, null, 2));
}
