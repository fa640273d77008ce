// tokentray:// links finish a browser sign-in for providers whose redirect URI
// cannot be a loopback address. The OS hands them to a second app instance
// (Windows, Linux: in its argv) or to the running one (macOS: open-url); both
// end in the core, which validates the link and ignores it unless an attempt is pending.
import { app } from 'electron';
import { resolve } from 'node:path';
import { protocolRegistration } from './protocol-policy';

export const DEEP_LINK_SCHEME = 'tokentray';
const MAX_LINK_LENGTH = 8192;

/** The first tokentray:// argument, if any; everything else on the command line is ignored. */
export function deepLinkFromArgv(argv: readonly string[]): string | null {
  for (const arg of argv) {
    if (arg.length <= MAX_LINK_LENGTH && arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}://`)) return arg;
  }
  return null;
}

/** Claims tokentray:// where protocolRegistration allows it; returns whether it did. */
export function registerProtocolClient(): boolean {
  const decision = protocolRegistration(process.platform, app.isPackaged, process.env);
  if (!decision.register) return false;
  if (decision.development && process.defaultApp && process.argv.length >= 2) {
    // Unpackaged (`electron dist/main/index.cjs`): the OS must start electron with our entry, not bare electron.
    return app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(process.argv[1] ?? '.')]);
  }
  return app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
}

/**
 * Links can arrive before the core exists (macOS sends open-url before ready; a cold start
 * by a link has it in argv): they wait in a queue until `attach` is given a handler.
 */
export class DeepLinkInbox {
  private readonly queue: string[] = [];
  private handler: ((url: string) => void) | null = null;

  push(url: string | null): void {
    if (url === null) return;
    if (this.handler) this.handler(url);
    else if (this.queue.length < 10) this.queue.push(url);
  }

  attach(handler: (url: string) => void): void {
    this.handler = handler;
    for (const url of this.queue.splice(0)) handler(url);
  }
}
