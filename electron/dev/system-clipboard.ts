import { spawn } from 'node:child_process';
import { TokentrayError } from '../core/errors';

interface ClipboardTool {
  copy: [string, string[]];
  paste: [string, string[]];
}

function tools(): ClipboardTool[] {
  if (process.platform === 'darwin') return [{ copy: ['pbcopy', []], paste: ['pbpaste', []] }];
  if (process.platform === 'win32')
    return [{ copy: ['clip', []], paste: ['powershell', ['-NoProfile', '-Command', 'Get-Clipboard']] }];
  const list: ClipboardTool[] = [];
  if (process.env['WAYLAND_DISPLAY']) list.push({ copy: ['wl-copy', []], paste: ['wl-paste', ['-n']] });
  list.push(
    { copy: ['xclip', ['-selection', 'clipboard']], paste: ['xclip', ['-selection', 'clipboard', '-o']] },
    { copy: ['xsel', ['--clipboard', '--input']], paste: ['xsel', ['--clipboard', '--output']] },
  );
  return list;
}

function run(command: string, args: string[], input: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}`))));
    if (input !== null) child.stdin?.end(input);
  });
}

/**
 * The development bridge's "Copy token": the page is an ordinary browser tab,
 * so the token must not go to it; a clipboard tool on this machine writes it
 * instead, and it is cleared after `clearAfterMs` unless something else was copied since.
 */
export async function copyToSystemClipboard(text: string, clearAfterMs = 60_000): Promise<void> {
  for (const tool of tools()) {
    try {
      await run(tool.copy[0], tool.copy[1], text);
    } catch {
      continue;
    }
    const timer = setTimeout(() => {
      run(tool.paste[0], tool.paste[1], null)
        .then((current) => (current.trim() === text ? run(tool.copy[0], tool.copy[1], '') : undefined))
        .catch(() => undefined);
    }, clearAfterMs);
    timer.unref();
    return;
  }
  throw new TokentrayError(
    'USAGE',
    'No clipboard tool was found on this machine (install xclip or wl-clipboard); `tokentray token <account>` prints the token instead.',
  );
}
