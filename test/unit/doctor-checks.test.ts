// The pieces of `tokentray doctor` that decide without running anything: where D-Bus would be,
// how a keychain refusal reads, which problem sets the exit code, and the version it reports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { doctorExitCode } from '../../electron/core/doctor/doctor';
import { classifyKeychainError, sessionBusProblem } from '../../electron/core/doctor/keychain-probe';
import { TOKENTRAY_VERSION } from '../../electron/core/version';

describe('doctor checks', () => {
  it('knows there is no session bus without asking D-Bus (which would autolaunch one)', () => {
    expect(sessionBusProblem({})).toMatch(/no D-Bus session bus/);
    expect(sessionBusProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus,guid=1' })).toMatch(
      /names \/nonexistent\/bus, which does not exist/,
    );
    // A display lets GLib autolaunch a bus, an existing socket is a bus: the probe process asks those.
    expect(sessionBusProblem({ DISPLAY: ':0' })).toBeNull();
    expect(sessionBusProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x' })).toBeNull();
    expect(sessionBusProblem({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${process.cwd()}/package.json` })).toBeNull();
  });

  it("reads libsecret's refusals as locked, absent or another error", () => {
    expect(classifyKeychainError('Cannot create an item in a locked collection')).toBe('locked');
    expect(classifyKeychainError('Cannot autolaunch D-Bus without X11 $DISPLAY')).toBe('absent');
    expect(classifyKeychainError('The name org.freedesktop.secrets was not provided by any .service files')).toBe(
      'absent',
    );
    expect(classifyKeychainError('Something else')).toBe('error');
  });

  it('exits with the most serious problem: the store (5, then 4), reconnects (3), the rest (1)', () => {
    const p = (exitCode: 1 | 3 | 4 | 5) => ({ exitCode, where: 'x', message: 'y' });
    expect(doctorExitCode([])).toBe(0);
    expect(doctorExitCode([p(1), p(3)])).toBe(3);
    expect(doctorExitCode([p(3), p(4), p(1)])).toBe(4);
    expect(doctorExitCode([p(4), p(5)])).toBe(5);
  });

  it("reports package.json's version", () => {
    expect(TOKENTRAY_VERSION).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });
});
