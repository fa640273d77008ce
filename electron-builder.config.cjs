// electron-builder configuration (`npm run dist`). Kept here rather than under
// package.json "build" so it can carry comments and be loaded by a unit test.
'use strict';

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'dev.tokentray.app',
  productName: 'Tokentray',
  copyright: 'Copyright © Tokentray contributors',
  directories: { output: 'release', buildResources: 'build' },
  // Only the bundles and the icons: esbuild already inlined every dependency except the externals below.
  files: [
    'dist/main/**',
    'dist/preload/**',
    'dist/renderer/**',
    'dist/cli/**',
    'build/icon.png',
    'build/icons/**',
    'package.json',
    '!dist/bench/**',
    '!dist/dev/**',
    // The Electron smoke test's build of main with its tray probe (test/electron/probed-main.ts): never shipped.
    '!dist/main/probed.cjs',
  ],
  asar: true,
  asarUnpack: [
    // A native module cannot be loaded from inside an asar archive.
    '**/node_modules/keytar/**',
    // The CLI runs on the system's node (see build/bin/tokentray), which cannot read app.asar.
    'dist/cli/**',
  ],
  // The `tokentray` command: a wrapper that runs the unpacked CLI with the system's Node.js, because the app
  // binary's RunAsNode fuse is off (build/after-pack.cjs). deb links it to /usr/bin/tokentray after install.
  extraResources: [{ from: 'build/bin', to: 'bin', filter: ['tokentray', 'tokentray.cmd'] }],
  protocols: [{ name: 'Tokentray', schemes: ['tokentray'] }],
  afterPack: './build/after-pack.cjs',
  // keytar ships N-API prebuilds that work in Node and Electron alike; rebuilding would need a compiler on every CI OS.
  npmRebuild: false,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Utility',
    icon: 'build/icon.png',
    // The GUI binary must not take the CLI's name: /usr/bin/tokentray is the command line.
    executableName: 'tokentray-desktop',
    synopsis: 'Keeps OAuth tokens in the OS keychain and fresh',
    // No desktop.entry override: electron-builder sets StartupWMClass from package.json's `desktopName`
    // (app-builder-lib LinuxTargetHelper.computeDesktopEntry, electron-builder#9103), which is also the
    // WM_CLASS / Wayland app_id Electron uses (electron.d.ts, app.setDesktopName). A hand-written
    // StartupWMClass ('Tokentray') untied the window from its launcher. The entry's file name is
    // `${executableName}.desktop` (LinuxTargetHelper.getDesktopFileName while syncDesktopName is off),
    // and its MimeType lists x-scheme-handler/tokentray from `protocols`: that is how Linux gets tokentray://.
  },
  deb: {
    // `depends` replaces electron-builder's list instead of adding to it (app-builder-lib FpmTarget:
    // customDepends = options.depends ?? getDefaultDepends('deb')), so the defaults are restated here:
    // without xdg-utils the browser never opens for sign-in; without libgtk-3-0 the app does not start.
    // electron-builder docs, DebOptions.depends: default ["libgtk-3-0", "libnotify4", "libnss3", "libxss1",
    // "libxtst6", "xdg-utils", "libatspi2.0-0", "libuuid1", "libsecret-1-0"]. Tokentray adds nothing else:
    // keytar needs libsecret-1-0 and notifications libnotify4, both already there.
    depends: [
      'libgtk-3-0',
      'libnotify4',
      'libnss3',
      'libxss1',
      'libxtst6',
      'xdg-utils',
      'libatspi2.0-0',
      'libuuid1',
      'libsecret-1-0',
    ],
    // Same for `recommends`: electron-builder's default libappindicator3-1 is what shows the tray icon on GNOME.
    recommends: ['libappindicator3-1', 'nodejs', 'gnome-keyring'],
    afterInstall: 'build/linux/after-install.sh',
    afterRemove: 'build/linux/after-remove.sh',
  },
  win: {
    target: ['nsis'],
    icon: 'build/icon.png',
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    icon: 'build/icon.png',
    hardenedRuntime: true,
    gatekeeperAssess: false,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.plist',
    // A menu-bar app still shows in the Dock while its window is open; LSUIElement would hide the window's menu.
    extendInfo: { NSUserNotificationAlertStyle: 'alert' },
  },
  dmg: { sign: false },
  publish: null,
};

module.exports = config;
