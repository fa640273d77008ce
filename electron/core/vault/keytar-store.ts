import { TokentrayError } from '../errors';
import type { SecretStore } from './secret-store';

type Keytar = typeof import('keytar');

const PROBE_ACCOUNT = 'probe:unlocked';

const WHAT_TO_DO: Record<string, string> = {
  // A server, container or CI runner usually has none: name the stores that need no desktop.
  linux:
    'start a Secret Service such as gnome-keyring (and unlock it), or on a server or CI runner without one keep tokens in an encrypted file (`tokentray store use file --key-file PATH`) or the shared store (`tokentray store use postgres://…`)',
  darwin: 'unlock the login keychain in Keychain Access, then try again',
  win32: 'make sure Windows Credential Manager is available for your user, then try again',
};

function unavailable(action: string, error: unknown): TokentrayError {
  const hint = WHAT_TO_DO[process.platform] ?? 'make sure the system keychain is available and unlocked';
  const reason = error instanceof Error ? error.message.split('\n')[0]?.slice(0, 120) : undefined;
  return new TokentrayError(
    'KEYCHAIN_UNAVAILABLE',
    `The system keychain could not ${action}${reason ? ` (${reason})` : ''}; ${hint}. Tokentray never falls back to storing tokens in plain files.`,
    { cause: error },
  );
}

/**
 * keytar runs each call on a worker thread, and libsecret is not safe to drive from several
 * at once: overlapping calls in one process trip GLib assertions ("g_task_return_boolean:
 * !task->ever_returned") and can abort the process. One call at a time per process; each
 * takes a few milliseconds, and concurrent token requests are merged before they get here.
 */
let keychainQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(call: () => Promise<T>): Promise<T> {
  const run = keychainQueue.then(call, call);
  keychainQueue = run.catch(() => undefined);
  return run;
}

/** What the account locks of one keychain service are keyed on (refresh/lock-dir.ts). */
export function keychainLockScope(service: string): string {
  return `keychain:${service}`;
}

/** The OS keychain through keytar (libsecret, macOS Keychain, Windows Credential Manager). */
export class KeytarSecretStore implements SecretStore {
  private keytar: Keytar | null = null;

  readonly lockScope: string;

  constructor(private readonly service: string) {
    // Every process of this user on this service shares the items, so it shares their locks.
    this.lockScope = keychainLockScope(service);
  }

  private load(): Keytar {
    if (this.keytar) return this.keytar;
    try {
      // Loaded on first use so commands that never touch a secret start faster.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.keytar = require('keytar') as Keytar;
      return this.keytar;
    } catch (error) {
      throw unavailable('be loaded', error);
    }
  }

  async get(key: string): Promise<string | null> {
    const keytar = this.load();
    try {
      return await oneAtATime(async () => {
        const value = await keytar.getPassword(this.service, key);
        // A locked libsecret collection answers reads with "no such item": tell that apart from a
        // missing item, so callers say "unlock the keychain" instead of "reconnect".
        if (value === null) await this.probeUnlocked(keytar);
        return value;
      });
    } catch (error) {
      throw unavailable('read a secret', error);
    }
  }

  async set(key: string, value: string): Promise<void> {
    const keytar = this.load();
    try {
      await oneAtATime(() => keytar.setPassword(this.service, key, value));
    } catch (error) {
      throw unavailable('store a secret', error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const keytar = this.load();
    try {
      return await oneAtATime(() => keytar.deletePassword(this.service, key));
    } catch (error) {
      throw unavailable('delete a secret', error);
    }
  }

  /** A locked Secret Service refuses writes cleanly; the probe item is written and removed at once. */
  private async probeUnlocked(keytar: Keytar): Promise<void> {
    if (process.platform !== 'linux') return;
    await keytar.setPassword(this.service, PROBE_ACCOUNT, 'probe');
    await keytar.deletePassword(this.service, PROBE_ACCOUNT);
  }

  async keys(): Promise<string[]> {
    const keytar = this.load();
    try {
      // keytar's findCredentials reads every secret, and on a locked libsecret collection it
      // aborts the whole process (secret_value_get_text on a NULL value): probe first.
      const found = await oneAtATime(async () => {
        await this.probeUnlocked(keytar);
        return keytar.findCredentials(this.service);
      });
      return found.map((c) => c.account).filter((a) => a !== PROBE_ACCOUNT);
    } catch (error) {
      throw unavailable('list its items', error);
    }
  }
}
