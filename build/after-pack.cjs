// electron-builder afterPack hook: flips Electron's fuses on the packaged binary
// before it is signed (signing comes after this hook, so the signature covers the
// flipped fuses). The settings are exported so test/unit/builder-config.test.ts
// can check them without packaging anything.
'use strict';

const { FuseV1Options, FuseVersion } = require('@electron/fuses');

/** By fuse name, so the test and a reader see the same thing. */
const FUSE_SETTINGS = Object.freeze({
  // The GUI binary is never a Node interpreter (ELECTRON_RUN_AS_NODE): the CLI runs on the system's node instead.
  RunAsNode: false,
  // Cookies and local storage are encrypted with a key kept in the OS keychain.
  EnableCookieEncryption: true,
  // app.asar is checked against the hash recorded at build time (Info.plist / Windows resource).
  EnableEmbeddedAsarIntegrityValidation: true,
  // …and nothing else than that asar is loaded as the app (no app/ folder beside it).
  OnlyLoadAppFromAsar: true,
  // NODE_OPTIONS and --inspect would let anyone who can start the app inject code into the process holding tokens.
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  // The renderer is served from app://, so file:// needs none of its legacy extra privileges.
  GrantFileProtocolExtraPrivileges: false,
});

function fuseConfig(platform) {
  const config = { version: FuseVersion.V1 };
  for (const [name, value] of Object.entries(FUSE_SETTINGS)) config[FuseV1Options[name]] = value;
  // Flipping fuses breaks the ad-hoc signature of arm64 macOS builds; unsigned CI builds must still launch.
  if (platform === 'darwin' || platform === 'mas') config.resetAdHocDarwinSignature = true;
  return config;
}

async function afterPack(context) {
  await context.packager.addElectronFuses(context, fuseConfig(context.electronPlatformName));
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.FUSE_SETTINGS = FUSE_SETTINGS;
module.exports.fuseConfig = fuseConfig;
