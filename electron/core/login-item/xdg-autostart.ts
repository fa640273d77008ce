// Start at login on Linux: an XDG autostart entry. Desktop sessions (GNOME,
// KDE, Xfce, …) start every .desktop file in $XDG_CONFIG_HOME/autostart at
// login (XDG Autostart Specification, "Autostart Directories"). Plain Node, no
// Electron: Electron main and the development bridge both use it.
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const AUTOSTART_FILE_NAME = 'tokentray.desktop';
/** Marks the entry as Tokentray's own, so removal (here and in the deb's postrm) never deletes someone else's file. */
export const AUTOSTART_MARKER = 'X-Tokentray-Autostart=true';
/** The app starts in the tray with no window. */
export const HIDDEN_FLAG = '--hidden';

/**
 * $XDG_CONFIG_HOME/autostart, or ~/.config/autostart. The Base Directory
 * Specification says a relative XDG_CONFIG_HOME is invalid and must be ignored.
 */
export function autostartDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg && xdg.trim() !== '' && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, 'autostart');
}

export function autostartPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return join(autostartDir(env, home), AUTOSTART_FILE_NAME);
}

// Desktop Entry Specification, "The Exec key": an argument containing any of these must be double-quoted.
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One Exec argument, quoted by the Desktop Entry Specification ("The Exec key"):
 * `%` is doubled (it starts field codes); an argument with reserved characters
 * goes in double quotes with `"`, `` ` ``, `$` and `\` backslash-escaped.
 */
export function quoteExecArgument(arg: string): string {
  if (/[\n\r\t\0]/.test(arg)) {
    throw new Error(
      `The path ${JSON.stringify(arg)} contains a line break, tab or NUL, which a desktop entry cannot start; move Tokentray to a folder without one.`,
    );
  }
  const literal = arg.replace(/%/g, '%%');
  if (literal !== '' && !RESERVED.test(literal)) return literal;
  return `"${literal.replace(/(["`$\\])/g, '\\$1')}"`;
}

/**
 * The Exec value as written to the file. Exec is a `string` value, so the
 * spec's general escapes apply on top of the quoting: every backslash is
 * doubled again ("a literal backslash in a quoted argument … requires four").
 */
export function execLine(executable: string, args: readonly string[]): string {
  return [executable, ...args].map(quoteExecArgument).join(' ').replace(/\\/g, '\\\\');
}

/** A `string` value (TryExec): only the general escapes, no quoting. */
function stringValue(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`The path ${JSON.stringify(value)} contains a line break or NUL.`);
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t');
}

export function autostartEntry(executable: string, args: readonly string[] = [HIDDEN_FLAG]): string {
  if (!isAbsolute(executable))
    throw new Error(`The app to start at login must be an absolute path, not "${executable}".`);
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Tokentray',
    'Comment=Keeps your OAuth tokens fresh in the background (tray only, no window)',
    `Exec=${execLine(executable, args)}`,
    // Desktop Entry Specification, "Recognized desktop entry keys": an entry whose TryExec file is missing is
    // ignored, so an uninstalled app never leaves a login entry that fails, whatever the postrm could reach.
    `TryExec=${stringValue(executable)}`,
    'Icon=tokentray-desktop',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    AUTOSTART_MARKER,
    '',
  ].join('\n');
}

export interface AutostartOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export interface AutostartStatus {
  /** Tokentray's entry exists and the desktop has not been told to skip it. */
  enabled: boolean;
  /** A file by our name exists that Tokentray did not write: it is left alone. */
  foreign: boolean;
  path: string;
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function readAutostart(options: AutostartOptions = {}): Promise<AutostartStatus> {
  const path = autostartPath(options.env, options.home);
  const text = await readOrNull(path);
  if (text === null) return { enabled: false, foreign: false, path };
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (!lines.includes(AUTOSTART_MARKER)) return { enabled: false, foreign: true, path };
  // Session managers' own off switches (GNOME Tweaks writes the first; the XDG Autostart spec defines Hidden).
  const off = lines.includes('X-GNOME-Autostart-enabled=false') || lines.includes('Hidden=true');
  return { enabled: !off, foreign: false, path };
}

/** Writes the entry (atomically); does nothing when the file already says exactly this. */
export async function enableAutostart(
  executable: string,
  options: AutostartOptions = {},
): Promise<'written' | 'unchanged'> {
  const path = autostartPath(options.env, options.home);
  const content = autostartEntry(executable);
  if ((await readOrNull(path)) === content) return 'unchanged';
  await fs.mkdir(autostartDir(options.env, options.home), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await fs.writeFile(temp, content, { mode: 0o644 });
  await fs.rename(temp, path);
  return 'written';
}

/** Removes Tokentray's entry; a file by that name that Tokentray did not write stays. */
export async function disableAutostart(options: AutostartOptions = {}): Promise<'removed' | 'absent' | 'foreign'> {
  const status = await readAutostart(options);
  const exists = (await readOrNull(status.path)) !== null;
  if (!exists) return 'absent';
  if (status.foreign) return 'foreign';
  await fs.rm(status.path, { force: true });
  return 'removed';
}
