// Start at login: the Linux autostart entry a desktop session really reads
// (its path, content, Exec quoting for awkward install paths, removal,
// idempotence), the first-account default that never overrides the user, the
// IPC verbs, and the deb's postrm that removes the entry on uninstall.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createIpcRouter } from '../../electron/core/ipc-router';
import {
  installedAppBackend,
  StartAtLogin,
  xdgAutostartBackend,
  type LoginItemBackend,
} from '../../electron/core/login-item/start-at-login';
import {
  autostartEntry,
  autostartPath,
  disableAutostart,
  enableAutostart,
  execLine,
  quoteExecArgument,
  readAutostart,
} from '../../electron/core/login-item/xdg-autostart';
import { FakeTokentrayService } from '../fakes/fake-service';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-autostart-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Undoes the Desktop Entry Specification's Exec encoding the way a session
 * manager does (GLib's g_shell_parse_argv after the string unescape), so the
 * test checks what would actually be started, not our own formatting.
 */
function parseExec(value: string): string[] {
  const unescaped = value.replace(/\\(.)/g, (_m, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r' })[c] ?? c);
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < unescaped.length; i += 1) {
    const ch = unescaped[i] as string;
    if (inQuotes) {
      if (ch === '\\' && i + 1 < unescaped.length && '"`$\\'.includes(unescaped[i + 1] as string)) {
        current += unescaped[i + 1];
        i += 1;
      } else if (ch === '"') inQuotes = false;
      else current += ch;
    } else if (ch === '"') {
      inQuotes = true;
      started = true;
    } else if (ch === ' ') {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push(current);
  return args.map((a) => a.replace(/%%/g, '%'));
}

function keyOf(entry: string, key: string): string | undefined {
  return entry
    .split('\n')
    .find((line) => line.startsWith(`${key}=`))
    ?.slice(key.length + 1);
}

describe('XDG autostart entry', () => {
  it('lives in $XDG_CONFIG_HOME/autostart, else ~/.config/autostart (a relative XDG_CONFIG_HOME is ignored)', () => {
    expect(autostartPath({ XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/xdg/autostart/tokentray.desktop');
    expect(autostartPath({}, '/home/u')).toBe('/home/u/.config/autostart/tokentray.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: '' }, '/home/u')).toBe('/home/u/.config/autostart/tokentray.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: 'relative/cfg' }, '/home/u')).toBe(
      '/home/u/.config/autostart/tokentray.desktop',
    );
  });

  it('starts the installed binary with --hidden, and is ignored by the session once the binary is gone', () => {
    const entry = autostartEntry('/opt/Tokentray/tokentray-desktop');
    expect(entry.startsWith('[Desktop Entry]\n')).toBe(true);
    expect(keyOf(entry, 'Type')).toBe('Application');
    expect(keyOf(entry, 'Name')).toBe('Tokentray');
    expect(keyOf(entry, 'Exec')).toBe('/opt/Tokentray/tokentray-desktop --hidden');
    expect(keyOf(entry, 'TryExec')).toBe('/opt/Tokentray/tokentray-desktop');
    expect(keyOf(entry, 'Terminal')).toBe('false');
    expect(keyOf(entry, 'X-GNOME-Autostart-enabled')).toBe('true');
    expect(keyOf(entry, 'X-Tokentray-Autostart')).toBe('true');
  });

  it('quotes Exec by the Desktop Entry rules, so paths with spaces and reserved characters start the right file', () => {
    const awkward = [
      '/home/Ann Lee/Applications/Tokentray.AppImage',
      '/home/u/My "Apps"/tokentray',
      '/home/u/$HOME/back\\slash/tokentray',
      '/home/u/100%/tokentray',
      "/home/u/it's/a`b`/tokentray",
    ];
    for (const path of awkward) {
      const exec = keyOf(autostartEntry(path), 'Exec') as string;
      expect(parseExec(exec)).toEqual([path, '--hidden']);
    }
    expect(quoteExecArgument('/opt/Tokentray/tokentray-desktop')).toBe('/opt/Tokentray/tokentray-desktop');
    expect(quoteExecArgument('/a b/c')).toBe('"/a b/c"');
    expect(quoteExecArgument('/a$b')).toBe('"/a\\$b"');
    // A literal backslash in a quoted argument takes four backslashes in the file (the spec's own example).
    expect(execLine('/a\\b', [])).toBe('"/a\\\\\\\\b"');
    expect(quoteExecArgument('/50%')).toBe('/50%%');
    expect(() => autostartEntry('/a\nExec=/bin/evil')).toThrow(/line break/);
    expect(() => autostartEntry('relative/tokentray')).toThrow(/absolute path/);
  });

  it('writes once, rewrites nothing when unchanged, reads back as enabled, and removes its own file', async () => {
    const home = tempDir();
    const env = { XDG_CONFIG_HOME: join(home, 'cfg') };
    expect((await readAutostart({ env, home })).enabled).toBe(false);
    expect(await enableAutostart('/opt/Tokentray/tokentray-desktop', { env, home })).toBe('written');
    const path = join(home, 'cfg', 'autostart', 'tokentray.desktop');
    expect(readFileSync(path, 'utf8')).toBe(autostartEntry('/opt/Tokentray/tokentray-desktop'));
    const firstWrite = statSync(path).mtimeMs;
    expect(await enableAutostart('/opt/Tokentray/tokentray-desktop', { env, home })).toBe('unchanged');
    expect(statSync(path).mtimeMs).toBe(firstWrite);
    expect(await readAutostart({ env, home })).toMatchObject({ enabled: true, foreign: false });
    // A moved AppImage: the entry follows the new path.
    expect(await enableAutostart('/home/u/Apps/Tokentray.AppImage', { env, home })).toBe('written');
    expect(readFileSync(path, 'utf8')).toContain('Exec=/home/u/Apps/Tokentray.AppImage --hidden');
    expect(await disableAutostart({ env, home })).toBe('removed');
    expect(existsSync(path)).toBe(false);
    expect(await disableAutostart({ env, home })).toBe('absent');
  });

  it("honours the desktop's own off switch and never deletes a file Tokentray did not write", async () => {
    const home = tempDir();
    const env = { XDG_CONFIG_HOME: join(home, 'cfg') };
    await enableAutostart('/opt/Tokentray/tokentray-desktop', { env, home });
    const path = autostartPath(env, home);
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'),
    );
    expect((await readAutostart({ env, home })).enabled).toBe(false);

    writeFileSync(path, '[Desktop Entry]\nType=Application\nExec=/usr/bin/my-own-thing\n');
    expect(await readAutostart({ env, home })).toMatchObject({ enabled: false, foreign: true });
    expect(await disableAutostart({ env, home })).toBe('foreign');
    expect(readFileSync(path, 'utf8')).toContain('my-own-thing');
    const backend = xdgAutostartBackend('/opt/Tokentray/tokentray-desktop', 'n/a', { env, home });
    await expect(backend.setEnabled(true)).rejects.toThrow(/not written by Tokentray/);
    expect(readFileSync(path, 'utf8')).toContain('my-own-thing');
  });
});

function memoryBackend(initial = false): LoginItemBackend & { calls: boolean[] } {
  let on = initial;
  const calls: boolean[] = [];
  return {
    unsupportedReason: null,
    calls,
    isEnabled: async () => on,
    setEnabled: async (enabled) => {
      calls.push(enabled);
      on = enabled;
    },
  };
}

describe('start at login setting', () => {
  it('turns itself on when the first account is connected, once', async () => {
    const backend = memoryBackend();
    const setting = new StartAtLogin(backend, join(tempDir(), 'start-at-login.json'));
    expect(await setting.accountsChanged(0)).toBe(false);
    expect((await setting.state()).enabled).toBe(false);
    expect(await setting.accountsChanged(1)).toBe(true);
    expect(await setting.state()).toEqual({ supported: true, enabled: true, reason: null });
    // Disconnect everything, connect again: the default is not applied a second time.
    await backend.setEnabled(false);
    expect(await setting.accountsChanged(0)).toBe(false);
    expect(await setting.accountsChanged(1)).toBe(false);
    expect((await setting.state()).enabled).toBe(false);
  });

  it('never overrides a user who turned it off, even before the first account, and across restarts', async () => {
    const file = join(tempDir(), 'start-at-login.json');
    const backend = memoryBackend();
    await new StartAtLogin(backend, file).set(false);
    const afterRestart = new StartAtLogin(backend, file);
    expect(await afterRestart.accountsChanged(3)).toBe(false);
    expect(backend.calls).toEqual([false]);
    expect(await afterRestart.set(true)).toMatchObject({ enabled: true });
    expect(await afterRestart.set(false)).toMatchObject({ enabled: false });
  });

  it('says why where it cannot work, and refuses to be set there', async () => {
    const home = tempDir();
    const env = { XDG_CONFIG_HOME: join(home, 'cfg') };
    const dev = new StartAtLogin(
      installedAppBackend('linux', () => false, { env, home }),
      join(home, 's.json'),
    );
    const state = await dev.state();
    expect(state.supported).toBe(false);
    expect(state.reason).toContain('/opt/Tokentray/tokentray-desktop');
    expect(await dev.accountsChanged(1)).toBe(false);
    await expect(dev.set(true)).rejects.toThrow(/not available here/);
    expect(existsSync(autostartPath(env, home))).toBe(false);

    const mac = await new StartAtLogin(installedAppBackend('darwin'), join(home, 'm.json')).state();
    expect(mac).toMatchObject({ supported: false, enabled: false });
    expect(mac.reason).toContain('development run');
  });

  it('manages the installed deb app from a development run on Linux', async () => {
    const home = tempDir();
    const env = { XDG_CONFIG_HOME: join(home, 'cfg') };
    const setting = new StartAtLogin(
      installedAppBackend('linux', (p) => p === '/opt/Tokentray/tokentray-desktop', { env, home }),
      join(home, 's.json'),
    );
    expect(await setting.set(true)).toEqual({ supported: true, enabled: true, reason: null });
    expect(readFileSync(autostartPath(env, home), 'utf8')).toContain('Exec=/opt/Tokentray/tokentray-desktop --hidden');
    expect(await setting.set(false)).toMatchObject({ enabled: false });
    expect(existsSync(autostartPath(env, home))).toBe(false);
  });

  it('crosses the IPC contract: get and set through the router, unsupported reported as such', async () => {
    const service = new FakeTokentrayService();
    const backend = memoryBackend();
    const router = createIpcRouter(service, {
      copyToken: async () => undefined,
      openExternal: async () => true,
      startAtLogin: new StartAtLogin(backend, join(tempDir(), 's.json')),
    });
    expect(await router.handle('getStartAtLogin', undefined)).toEqual({
      ok: true,
      data: { supported: true, enabled: false, reason: null },
    });
    expect(await router.handle('setStartAtLogin', { enabled: true })).toEqual({
      ok: true,
      data: { supported: true, enabled: true, reason: null },
    });
    expect(backend.calls).toEqual([true]);
    expect(await router.handle('setStartAtLogin', { enabled: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID' },
    });

    const bare = createIpcRouter(service, { copyToken: async () => undefined, openExternal: async () => true });
    const got = await bare.handle('getStartAtLogin', {});
    expect(got).toMatchObject({ ok: true, data: { supported: false, enabled: false } });
    expect(await bare.handle('setStartAtLogin', { enabled: true })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
    router.close();
    bare.close();
  });
});

describe("the deb's postrm", () => {
  /** build/linux/after-remove.sh with electron-builder's macros filled in and getent answering with test homes. */
  function runPostrm(arg: string, homes: string[]): void {
    const dir = tempDir();
    const script = readFileSync('build/linux/after-remove.sh', 'utf8')
      .replace(/\$\{sanitizedProductName\}/g, 'Tokentray')
      .replace(/\$\{executable\}/g, 'tokentray-desktop');
    // Only the autostart part runs here: the rest needs root (update-alternatives, /usr/bin, AppArmor).
    const part = script.slice(script.indexOf('# Start at login'));
    writeFileSync(join(dir, 'postrm'), part);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const passwd = homes.map((h, i) => `u${i}:x:${1000 + i}:${1000 + i}::${h}:/bin/bash`).join('\n');
    writeFileSync(join(bin, 'getent'), `#!/bin/sh\ncat <<'EOF'\n${passwd}\nEOF\n`);
    chmodSync(join(bin, 'getent'), 0o755);
    const result = spawnSync('bash', [join(dir, 'postrm'), arg], {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
  }

  it.skipIf(process.platform === 'win32')(
    "removes every user's Tokentray entry on remove and purge, keeps it on upgrade, never touches others",
    async () => {
      const ours = tempDir();
      const theirs = tempDir();
      await enableAutostart('/opt/Tokentray/tokentray-desktop', { env: {}, home: ours });
      mkdirSync(join(theirs, '.config', 'autostart'), { recursive: true });
      const foreign = join(theirs, '.config', 'autostart', 'tokentray.desktop');
      writeFileSync(foreign, '[Desktop Entry]\nExec=/usr/local/bin/tokentray-fork\n');

      runPostrm('upgrade', [ours, theirs]);
      expect(existsSync(autostartPath({}, ours))).toBe(true);

      runPostrm('remove', [ours, theirs, '/nonexistent-home']);
      expect(existsSync(autostartPath({}, ours))).toBe(false);
      expect(existsSync(foreign)).toBe(true);
    },
  );
});
