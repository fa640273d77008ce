// `npm start` (after the build): the tray app. With no Electron binary it runs
// Electron's own installer first; only when no binary can be had (no network,
// ELECTRON_SKIP_BINARY_DOWNLOAD=1) does it open the development bridge in the
// browser, saying why. The logic lives in electron/dev/start-app.ts (tested in
// test/unit/launch-plan.test.ts); this file only loads its bundle.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const { main } = require(resolve('dist/dev/start-app.cjs'));
main().catch((error) => {
  console.error(`Tokentray could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
