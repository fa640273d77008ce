// `npm start` (after the build): the tray app. With no Electron binary it runs
// Electron's own installer first; only when no binary can be had (no network,
// ELECTRON_SKIP_BINARY_DOWNLOAD=1) does it open the development bridge in the
// browser, saying why. The logic lives in electron/dev/start-app.ts (tested in
// test/unit/launch-plan.test.ts); this file only loads its bundle.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const bundle = resolve('dist/dev/start-app.cjs');
if (!existsSync(bundle)) {
  console.error(`Tokentray is not built (${bundle} is missing); run \`npm start\`, which builds first.`);
  process.exit(1);
}
const require = createRequire(import.meta.url);
const { main } = require(bundle);
main().catch((error) => {
  console.error(`Tokentray could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
