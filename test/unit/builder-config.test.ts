// The packaging configuration, checked without packaging: what a broken config
// would cost is a release that cannot open tokentray:// links, cannot load
// keytar, ships without its CLI, or runs with Electron's unsafe defaults.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { APP_USER_MODEL_ID, protocolRegistration } from '../../electron/main/protocol-policy';

const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  protocols: { name: string; schemes: string[] }[];
  afterPack: string;
  linux: { target: string[]; executableName: string; icon: string; desktop?: { entry?: Record<string, string> } };
  deb: { afterInstall: string; afterRemove: string; depends: string[]; recommends: string[] };
  win: { target: string[]; icon: string };
  mac: { target: string[]; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; icon: string };
}

const config = require('../../electron-builder.config.cjs') as BuilderConfig;
const afterPack = require('../../build/after-pack.cjs') as {
  FUSE_SETTINGS: Record<string, boolean>;
  fuseConfig(platform: string): Record<string, unknown>;
};
const { FuseV1Options } = require('@electron/fuses') as { FuseV1Options: Record<string, number> };
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  build?: unknown;
  desktopName?: string;
  main: string;
  scripts: Record<string, string>;
};

function isPng(path: string, size: number): boolean {
  const bytes = readFileSync(path);
  const signature = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return signature && bytes.readUInt32BE(16) === size && bytes.readUInt32BE(20) === size;
}

describe('electron-builder config', () => {
  it('is the only packaging config, and `npm run dist` uses it', () => {
    expect(pkg.build).toBeUndefined();
    expect(pkg.scripts['dist']).toContain('--config electron-builder.config.cjs');
    expect(config.appId).toBe('dev.tokentray.app');
    expect(config.productName).toBe('Tokentray');
  });

  it('registers the tokentray:// scheme', () => {
    expect(config.protocols).toEqual([{ name: 'Tokentray', schemes: ['tokentray'] }]);
  });

  it('ships the main, preload, renderer and CLI bundles and the package manifest', () => {
    for (const dir of ['dist/main', 'dist/preload', 'dist/renderer', 'dist/cli']) {
      expect(config.files.some((pattern) => pattern.startsWith(dir))).toBe(true);
    }
    expect(config.files).toContain('package.json');
    expect(pkg.main).toBe('dist/main/index.cjs');
  });

  it('unpacks keytar (native code cannot load from an asar) and the CLI the wrapper runs', () => {
    expect(config.asarUnpack.some((p) => p.includes('node_modules/keytar/**'))).toBe(true);
    expect(config.asarUnpack).toContain('dist/cli/**');
    const bin = config.extraResources.find((r) => r.to === 'bin');
    expect(bin?.from).toBe('build/bin');
    const wrapper = readFileSync('build/bin/tokentray', 'utf8');
    expect(wrapper).toContain('app.asar.unpacked/dist/cli/tokentray.cjs');
    // Executable in the repository, so the packaged copy is too.
    if (process.platform !== 'win32') expect(statSync('build/bin/tokentray').mode & 0o111).not.toBe(0);
  });

  it('links /usr/bin/tokentray to the CLI on deb installs, and gives the GUI another name', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.linux.executableName).not.toBe('tokentray');
    const install = readFileSync(config.deb.afterInstall, 'utf8');
    expect(install).toContain("ln -sf '/opt/${sanitizedProductName}/resources/bin/tokentray' '/usr/bin/tokentray'");
    // electron-builder's own steps (GUI link, chrome-sandbox) are kept.
    expect(install).toContain('chrome-sandbox');
    expect(readFileSync(config.deb.afterRemove, 'utf8')).toContain("rm -f '/usr/bin/tokentray'");
  });

  it('builds nsis on Windows and a hardened-runtime dmg on macOS', () => {
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.entitlements).toBe('build/entitlements.mac.plist');
  });

  it('has entitlements that parse, allow the JIT, and claim nothing restricted', () => {
    const plist = require('plist') as { parse(xml: string): unknown };
    const parsed = plist.parse(readFileSync(config.mac.entitlements, 'utf8')) as Record<string, unknown>;
    expect(parsed['com.apple.security.cs.allow-jit']).toBe(true);
    expect(parsed['com.apple.security.cs.disable-library-validation']).toBeUndefined();
    // Restricted without a provisioning profile: claiming it would stop a Developer ID build from launching.
    expect(parsed['keychain-access-groups']).toBeUndefined();
  });

  it('flips exactly the intended fuses after packing', () => {
    expect(config.afterPack).toBe('./build/after-pack.cjs');
    expect(afterPack.FUSE_SETTINGS).toEqual({
      RunAsNode: false,
      EnableCookieEncryption: true,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      GrantFileProtocolExtraPrivileges: false,
    });
    const wire = afterPack.fuseConfig('linux');
    for (const [name, value] of Object.entries(afterPack.FUSE_SETTINGS)) {
      expect(wire[String(FuseV1Options[name])]).toBe(value);
    }
    expect(wire['version']).toBe('1');
  });

  it('has the app icon and every tray state icon, at 1x and 2x', () => {
    expect(isPng('build/icon.png', 512)).toBe(true);
    for (const state of ['ok', 'expiring', 'reconnect', 'offline']) {
      expect(isPng(`build/icons/tray-${state}.png`, 16)).toBe(true);
      expect(isPng(`build/icons/tray-${state}@2x.png`, 32)).toBe(true);
    }
    expect(existsSync(config.mac.icon)).toBe(true);
  });

  it("ties the Linux window to its launcher: desktopName is the deb's .desktop file, no StartupWMClass of our own", () => {
    // The deb installs /usr/share/applications/${executableName}.desktop (app-builder-lib FpmTarget, via
    // LinuxTargetHelper.getDesktopFileName while syncDesktopName is off). Electron takes WM_CLASS / app_id from
    // desktopName (electron.d.ts, app.setDesktopName), and electron-builder derives StartupWMClass from it.
    expect(pkg.desktopName).toBe(`${config.linux.executableName}.desktop`);
    expect(config.linux.desktop?.entry?.['StartupWMClass']).toBeUndefined();
    const { LinuxTargetHelper } = require('app-builder-lib/out/targets/LinuxTargetHelper') as {
      LinuxTargetHelper: { prototype: { getDesktopFileName(this: unknown, fallback?: string): string } };
    };
    const installedName = LinuxTargetHelper.prototype.getDesktopFileName.call({
      packager: {
        executableName: config.linux.executableName,
        platformSpecificBuildOptions: config.linux,
        info: { metadata: { desktopName: pkg.desktopName } },
      },
    });
    expect(`${installedName}.desktop`).toBe(pkg.desktopName);
  });

  it("keeps every one of electron-builder's default deb dependencies (depends replaces them, it does not add)", () => {
    const { default: FpmTarget } = require('app-builder-lib/out/targets/FpmTarget') as {
      default: {
        prototype: { getDefaultDepends(target: string): string[]; getDefaultRecommends(target: string): string[] };
      };
    };
    const defaults = FpmTarget.prototype.getDefaultDepends('deb');
    // The list the issue and the docs name, checked against the installed electron-builder itself.
    expect(defaults).toEqual(
      expect.arrayContaining(['libgtk-3-0', 'libxss1', 'xdg-utils', 'libatspi2.0-0', 'libuuid1']),
    );
    expect(config.deb.depends).toEqual(expect.arrayContaining(defaults));
    expect(config.deb.depends).toEqual(expect.arrayContaining(['libsecret-1-0', 'libnotify4']));
    expect(config.deb.recommends).toEqual(expect.arrayContaining(FpmTarget.prototype.getDefaultRecommends('deb')));
  });

  it('removes the start-at-login entry on uninstall, and the app claims the AppUserModelID its shortcuts carry', () => {
    const remove = readFileSync(config.deb.afterRemove, 'utf8');
    expect(remove).toContain('.config/autostart/tokentray.desktop');
    expect(remove).toContain('X-Tokentray-Autostart=true');
    expect(APP_USER_MODEL_ID).toBe(config.appId);
  });

  it('claims tokentray:// only from the packaged app on Windows and macOS, never at run time on Linux', () => {
    expect(protocolRegistration('linux', true, {})).toEqual({ register: false, why: 'linux-desktop-entry' });
    expect(protocolRegistration('linux', false, { TOKENTRAY_REGISTER_PROTOCOL: '1' })).toMatchObject({
      register: false,
    });
    expect(protocolRegistration('win32', false, {})).toEqual({ register: false, why: 'development-run' });
    expect(protocolRegistration('darwin', false, {})).toEqual({ register: false, why: 'development-run' });
    expect(protocolRegistration('win32', true, {})).toEqual({ register: true, development: false });
    expect(protocolRegistration('darwin', true, {})).toEqual({ register: true, development: false });
    expect(protocolRegistration('win32', false, { TOKENTRAY_REGISTER_PROTOCOL: '1' })).toEqual({
      register: true,
      development: true,
    });
  });
});
