import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeychainState } from './doctor-report';

/** What a probe of the OS keychain found: its state and, when it answered, the names of its items. */
export interface KeychainProbe {
  state: KeychainState;
  detail: string | null;
  /** Item names (never values): which accounts and client secrets the keychain holds. */
  names: string[] | null;
}

/**
 * Where libsecret's GDBus would find the session bus, and why there is none (GLib's
 * g_dbus_address_get_for_bus_sync: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus, else
 * autolaunch through dbus-launch, which needs an X11 $DISPLAY). Answered from the environment and
 * the file system alone, so `doctor` never asks D-Bus to autolaunch a bus on a server.
 * Null when a bus may be there (then the probe process asks it).
 */
export function sessionBusProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  const address = env['DBUS_SESSION_BUS_ADDRESS']?.trim();
  if (address) {
    // unix:path=/run/user/1000/bus[,guid=…]; abstract sockets and TCP addresses cannot be checked here.
    const path = /^unix:path=([^,;]+)/.exec(address)?.[1];
    if (path !== undefined && !existsSync(path))
      return `no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS names ${path}, which does not exist`;
    return null;
  }
  const runtime = env['XDG_RUNTIME_DIR']?.trim();
  if (runtime && existsSync(join(runtime, 'bus'))) return null;
  if (env['DISPLAY']?.trim()) return null;
  return 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no X11 display to start one)';
}

/** Sorts the keychain's refusal into locked, absent or something else, by libsecret's and keytar's words. */
export function classifyKeychainError(message: string): KeychainState {
  if (/locked|unlock/i.test(message)) return 'locked';
  if (
    /autolaunch|address is empty|could not connect|no such file|ServiceUnknown|was not provided by any \.service|name has no owner|not available|be loaded/i.test(
      message,
    )
  )
    return 'absent';
  return 'error';
}

/** The first line of a keychain error, short: it names libsecret's reason, never a secret. */
export function keychainDetail(message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 240);
}

/**
 * Asks the keychain in this process: a probe write and delete where a locked collection hides its
 * items (KeytarSecretStore.keys), then the item names. Run by `tokentray __keychain-probe` in a
 * child the doctor can kill, since a D-Bus call that never answers cannot be cancelled.
 */
export async function probeKeychainHere(service: string): Promise<KeychainProbe> {
  const { KeytarSecretStore } = await import('../vault/keytar-store');
  try {
    return { state: 'ok', detail: null, names: await new KeytarSecretStore(service).keys() };
  } catch (error) {
    // libsecret's own words are in the cause; the wrapper's advice mentions "unlock" whatever happened.
    const cause = (error as { cause?: unknown }).cause;
    const raw = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
    return { state: classifyKeychainError(raw), detail: keychainDetail(raw), names: null };
  }
}
