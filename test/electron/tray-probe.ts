import { TrayService } from '../../electron/main/tray';

/**
 * The tray is the one part of the desktop app no window and no Electron API can see (Electron
 * keeps no list of trays). This test-only module records the app's TrayService as it is
 * created and answers the smoke test's questions about it through a global that Playwright's
 * app.evaluate reads. It is bundled only into dist/main/probed.cjs (probed-main.ts), which the
 * smoke test builds and the packaged app never contains.
 */
export interface TrayProbe {
  tray(): { state: string; menu: string[] } | null;
  trayIconEmpty(): boolean | null;
}

let created: TrayService | null = null;
const remember = (tray: TrayService): void => {
  created = tray;
};
const create = TrayService.prototype.create;
TrayService.prototype.create = function (this: TrayService): void {
  remember(this);
  create.call(this);
};

const probe: TrayProbe = {
  tray: () => created?.current ?? null,
  trayIconEmpty: () => created?.iconIsEmpty() ?? null,
};
(globalThis as Record<string, unknown>)['__tokentrayTrayProbe'] = probe;
