// How `npm start` opens the development bridge in the browser without putting its secret
// in argv. The bridge URL carries the session secret; handed to xdg-open (and by it to the
// browser) as an argument, any local user could read it in /proc/<pid>/cmdline while those
// run. Instead, as Jupyter does (jupyter_server's `browser_open_file`), the secret goes into a
// 0600 page in a 0700 folder that only this user can read, and the opener gets that page's
// path; the page forwards the browser to the bridge. The page is deleted once the browser has
// connected, and when the bridge stops.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { openLocalFile } from '../cli/io';

export interface LaunchPage {
  path: string;
  /** Deletes the page and its folder; safe to call more than once. */
  remove(): Promise<void>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The launch page's markup: a redirect, and a link for a browser that ignores it. */
export function launchPageHtml(url: string): string {
  const href = escapeHtml(url);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="referrer" content="no-referrer">',
    `<meta http-equiv="refresh" content="0;url=${href}">`,
    '<title>Opening Tokentray…</title>',
    '</head>',
    `<body><p>Opening Tokentray… If nothing happens, <a href="${href}">open it here</a>.</p></body>`,
    '</html>',
    '',
  ].join('\n');
}

/** Writes the launch page under `parent` (the state directory): a fresh 0700 folder, a 0600 file. */
export async function writeLaunchPage(parent: string, url: string): Promise<LaunchPage> {
  await fs.mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await fs.mkdtemp(join(parent, 'bridge-'));
  await fs.chmod(dir, 0o700);
  const path = join(dir, 'open.html');
  // 'wx': never write through a file (or symlink) someone placed there first.
  await fs.writeFile(path, launchPageHtml(url), { mode: 0o600, flag: 'wx' });
  let removed = false;
  return {
    path,
    remove: async () => {
      if (removed) return;
      removed = true;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the bridge in the default browser through a launch page; the opener's argv holds only its path. */
export async function openBridgeInBrowser(parent: string, url: string): Promise<LaunchPage> {
  const page = await writeLaunchPage(parent, url);
  await openLocalFile(page.path);
  return page;
}
