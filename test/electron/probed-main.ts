// The desktop app's main process as the smoke test runs it: the product's main, with the tray
// probe installed first (see tray-probe.ts). Import order matters: the probe patches TrayService
// before main creates the tray.
import './tray-probe';
import '../../electron/main/index';
