// "Start Tokentray when I log in": one setting over three mechanisms (macOS and
// Windows login items through Electron, an XDG autostart entry on Linux). A tray
// app that is not running refreshes nothing, so the setting turns itself on
// when the first account is connected — once; after that, and whenever the
// user has chosen, only the user changes it.
import { promises as fs } from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { TokentrayError } from '../errors';
import { disableAutostart, enableAutostart, readAutostart, type AutostartOptions } from './xdg-autostart';

export interface StartAtLoginState {
  supported: boolean;
  enabled: boolean;
  /** Why it is unsupported here, for the Settings screen; null when supported. */
  reason: string | null;
}

/** The OS side: Electron's login items, the XDG autostart file, or nothing. */
export interface LoginItemBackend {
  /** Null when this backend can work; otherwise a sentence telling the user why not. */
  readonly unsupportedReason: string | null;
  isEnabled(): Promise<boolean>;
  setEnabled(enabled: boolean): Promise<void>;
}

/** What the IPC router needs (the Settings screen's two verbs). */
export interface StartAtLoginControl {
  state(): Promise<StartAtLoginState>;
  set(enabled: boolean): Promise<StartAtLoginState>;
}

interface Decisions {
  /** The first-account default was applied (it is never applied twice). */
  defaultApplied: boolean;
  /** The user flipped the switch at least once: their choice stands. */
  userChose: boolean;
}

export class StartAtLogin implements StartAtLoginControl {
  constructor(
    private readonly backend: LoginItemBackend,
    /** A small JSON file in the state directory remembering whether the default was applied or the user chose. */
    private readonly decisionsFile: string,
  ) {}

  async state(): Promise<StartAtLoginState> {
    const reason = this.backend.unsupportedReason;
    if (reason !== null) return { supported: false, enabled: false, reason };
    return { supported: true, enabled: await this.backend.isEnabled(), reason: null };
  }

  async set(enabled: boolean): Promise<StartAtLoginState> {
    const reason = this.backend.unsupportedReason;
    if (reason !== null) throw new TokentrayError('USAGE', `Start at login is not available here: ${reason}`);
    await this.backend.setEnabled(enabled);
    await this.writeDecisions({ ...(await this.readDecisions()), userChose: true });
    return this.state();
  }

  /**
   * Call with the number of connected accounts whenever it changes (and at
   * start-up). Turns the setting on the first time there is an account,
   * unless the user already decided. Returns whether it turned it on.
   */
  async accountsChanged(accountCount: number): Promise<boolean> {
    if (accountCount < 1 || this.backend.unsupportedReason !== null) return false;
    const decisions = await this.readDecisions();
    if (decisions.defaultApplied || decisions.userChose) return false;
    await this.backend.setEnabled(true);
    await this.writeDecisions({ ...decisions, defaultApplied: true });
    return true;
  }

  private async readDecisions(): Promise<Decisions> {
    try {
      const value = JSON.parse(await fs.readFile(this.decisionsFile, 'utf8')) as Partial<Decisions>;
      return { defaultApplied: value.defaultApplied === true, userChose: value.userChose === true };
    } catch {
      return { defaultApplied: false, userChose: false };
    }
  }

  private async writeDecisions(decisions: Decisions): Promise<void> {
    await fs.mkdir(dirname(this.decisionsFile), { recursive: true, mode: 0o700 });
    const temp = `${this.decisionsFile}.${process.pid}.tmp`;
    await fs.writeFile(temp, `${JSON.stringify(decisions)}\n`, { mode: 0o600 });
    await fs.rename(temp, this.decisionsFile);
  }
}

/** Where the deb installs the GUI binary (electron-builder: /opt/${sanitizedProductName}/${executableName}). */
export const DEB_BINARY = '/opt/Tokentray/tokentray-desktop';

/** Linux: the XDG autostart entry, starting `executable --hidden`; unsupported (with the reason) when there is none. */
export function xdgAutostartBackend(
  executable: string | null,
  missingReason: string,
  options: AutostartOptions = {},
): LoginItemBackend {
  return {
    unsupportedReason: executable === null ? missingReason : null,
    isEnabled: async () => (await readAutostart(options)).enabled,
    setEnabled: async (enabled) => {
      if (!enabled) {
        await disableAutostart(options);
        return;
      }
      if (executable === null) throw new TokentrayError('USAGE', missingReason);
      const status = await readAutostart(options);
      if (status.foreign) {
        throw new TokentrayError(
          'USAGE',
          `${status.path} already exists and was not written by Tokentray; rename or remove it, then turn the setting on again.`,
        );
      }
      await enableAutostart(executable, options);
    },
  };
}

/**
 * For a process that is not the installed app (the development bridge, an
 * unpackaged Electron run): manage the entry for the installed deb app when it
 * is there, otherwise say why there is nothing to start at login.
 */
export function installedAppBackend(
  platform: NodeJS.Platform = process.platform,
  installed: (path: string) => boolean = existsSync,
  options: AutostartOptions = {},
): LoginItemBackend {
  if (platform !== 'linux') {
    return {
      unsupportedReason:
        'this is a development run; start at login is set in the installed Tokentray app (Settings), so a development copy is never registered with the system.',
      isEnabled: async () => false,
      setEnabled: async () => undefined,
    };
  }
  const executable = installed(DEB_BINARY) ? DEB_BINARY : null;
  return xdgAutostartBackend(
    executable,
    `this is a development run and the installed app (${DEB_BINARY}, from the .deb package) was not found; install the deb, then turn this on in its Settings.`,
    options,
  );
}
