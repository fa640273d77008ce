// Whether this run may claim tokentray:// with the OS. Kept free of Electron so it is unit-tested.
//
// - Linux: never at run time. Electron's setAsDefaultProtocolClient runs `xdg-settings set
//   default-url-scheme-handler` with the app's desktop name (electron.d.ts, app.setDesktopName: "must
//   match the base filename of the app's installed .desktop file"); the deb already declares
//   `MimeType=x-scheme-handler/tokentray;` in its own entry (electron-builder LinuxTargetHelper, from
//   `protocols`), and an xdg-settings call can override that working association on some desktops.
// - Windows and macOS: only the packaged app (app.isPackaged). An `npm start` or smoke-test run would
//   otherwise point tokentray:// at node_modules/electron (electron.d.ts, setAsDefaultProtocolClient:
//   "Sets the current executable as the default handler"). TOKENTRAY_REGISTER_PROTOCOL=1 asks for it
//   in a development run, on purpose.
export type ProtocolRegistration =
  { register: false; why: 'linux-desktop-entry' | 'development-run' } | { register: true; development: boolean };

export function protocolRegistration(
  platform: NodeJS.Platform,
  isPackaged: boolean,
  env: NodeJS.ProcessEnv,
): ProtocolRegistration {
  if (platform === 'linux') return { register: false, why: 'linux-desktop-entry' };
  if (isPackaged) return { register: true, development: false };
  if (env['TOKENTRAY_REGISTER_PROTOCOL'] === '1') return { register: true, development: true };
  return { register: false, why: 'development-run' };
}

/** electron-builder.config.cjs appId, which NSIS writes into its shortcuts (test/unit/builder-config.test.ts keeps them equal). */
export const APP_USER_MODEL_ID = 'dev.tokentray.app';
