// The Electron 45 desktop fixes that live in main, with `electron` replaced by
// a recorder (there is no Electron binary here; the smoke test runs the real
// one on CI): a notification the OS refuses is surfaced instead of lost, and
// start at login uses the login item with --hidden on Windows, the AppImage's
// own path in the Linux autostart entry, and nothing in a development run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExpiryNotice } from '../../electron/core/refresh/expiry-notices';

const electron = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => void;
  class FakeNotification {
    static supported = true;
    static created: FakeNotification[] = [];
    readonly listeners = new Map<string, Listener>();
    shown = false;
    constructor(readonly options: Record<string, unknown>) {
      FakeNotification.created.push(this);
    }
    static isSupported(): boolean {
      return FakeNotification.supported;
    }
    on(event: string, listener: Listener): this {
      this.listeners.set(event, listener);
      return this;
    }
    show(): void {
      this.shown = true;
    }
    emit(event: string, ...args: unknown[]): void {
      this.listeners.get(event)?.(...args);
    }
  }
  const loginItemCalls: unknown[] = [];
  const app = {
    isPackaged: true,
    openAtLogin: false,
    setLoginItemSettings(settings: { openAtLogin?: boolean }) {
      loginItemCalls.push(settings);
      app.openAtLogin = settings.openAtLogin === true;
    },
    getLoginItemSettings(_options?: unknown) {
      return { openAtLogin: app.openAtLogin, wasOpenedAtLogin: false };
    },
  };
  return { FakeNotification, app, loginItemCalls };
});

vi.mock('electron', () => ({ Notification: electron.FakeNotification, app: electron.app }));

const { ExpiryNotifier } = await import('../../electron/main/notifications');
const { loginItemBackend, startsHidden } = await import('../../electron/main/login-item');

const NOTICE: ExpiryNotice = {
  key: 'k',
  accountId: 'a',
  provider: 'ticktick',
  label: 'me',
  expiresAt: '2030-01-01T00:00:00.000Z',
  expired: false,
  title: 'TickTick (me) expires in 14 days',
  body: 'Reconnect to keep it working.',
};

describe('expiry notifications', () => {
  beforeEach(() => {
    electron.FakeNotification.created = [];
    electron.FakeNotification.supported = true;
  });

  it("surfaces a notification the OS refused ('failed') instead of losing it", () => {
    const failed: [string, string][] = [];
    const notifier = new ExpiryNotifier(
      () => undefined,
      undefined,
      (notice, error) => failed.push([notice.title, error]),
    );
    notifier.show(NOTICE);
    const shown = electron.FakeNotification.created[0];
    expect(shown?.shown).toBe(true);
    // electron.d.ts: on('failed', (event, error: string) => …), darwin and win32.
    shown?.emit('failed', {}, 'Notifications are turned off for this app');
    expect(failed).toEqual([[NOTICE.title, 'Notifications are turned off for this app']]);
  });

  it('surfaces the notice when the desktop has no notifications at all', () => {
    electron.FakeNotification.supported = false;
    const failed: string[] = [];
    new ExpiryNotifier(
      () => undefined,
      undefined,
      (notice) => failed.push(notice.title),
    ).show(NOTICE);
    expect(electron.FakeNotification.created).toHaveLength(0);
    expect(failed).toEqual([NOTICE.title]);
  });

  it('still reconnects from a click', () => {
    const reconnected: string[] = [];
    new ExpiryNotifier((notice) => reconnected.push(notice.accountId)).show(NOTICE);
    electron.FakeNotification.created[0]?.emit('click');
    expect(reconnected).toEqual(['a']);
  });
});

describe('start at login in the Electron app', () => {
  const platform = process.platform;
  let dir: string;
  const saved = { xdg: process.env['XDG_CONFIG_HOME'], appimage: process.env['APPIMAGE'] };

  function setPlatform(value: NodeJS.Platform): void {
    Object.defineProperty(process, 'platform', { value, configurable: true });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tokentray-login-'));
    process.env['XDG_CONFIG_HOME'] = dir;
    electron.loginItemCalls.length = 0;
    electron.app.isPackaged = true;
    electron.app.openAtLogin = false;
  });

  afterEach(() => {
    setPlatform(platform);
    for (const [key, value] of [
      ['XDG_CONFIG_HOME', saved.xdg],
      ['APPIMAGE', saved.appimage],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('Windows: the login item starts the app with --hidden', async () => {
    setPlatform('win32');
    const backend = loginItemBackend();
    expect(backend.unsupportedReason).toBeNull();
    await backend.setEnabled(true);
    expect(electron.loginItemCalls).toEqual([{ openAtLogin: true, args: ['--hidden'] }]);
    expect(await backend.isEnabled()).toBe(true);
    await backend.setEnabled(false);
    expect(electron.loginItemCalls[1]).toEqual({ openAtLogin: false, args: ['--hidden'] });
  });

  it('macOS: a plain login item (no args there); a login start is recognised as hidden', async () => {
    setPlatform('darwin');
    await loginItemBackend().setEnabled(true);
    expect(electron.loginItemCalls).toEqual([{ openAtLogin: true }]);
    expect(startsHidden(['/Applications/Tokentray.app/Contents/MacOS/Tokentray'])).toBe(false);
    expect(startsHidden(['x', '--hidden'])).toBe(true);
  });

  it('Linux AppImage: the autostart entry starts the AppImage file, not its temporary mount', async () => {
    setPlatform('linux');
    process.env['APPIMAGE'] = '/home/ann/Apps/Tokentray 1.0.AppImage';
    const backend = loginItemBackend();
    await backend.setEnabled(true);
    const entry = readFileSync(join(dir, 'autostart', 'tokentray.desktop'), 'utf8');
    expect(entry).toContain('Exec="/home/ann/Apps/Tokentray 1.0.AppImage" --hidden');
    expect(electron.loginItemCalls).toEqual([]);
  });

  it('a development run never registers itself', async () => {
    electron.app.isPackaged = false;
    setPlatform('win32');
    const backend = loginItemBackend();
    expect(backend.unsupportedReason).toContain('development run');
    await backend.setEnabled(true);
    expect(electron.loginItemCalls).toEqual([]);
  });
});
