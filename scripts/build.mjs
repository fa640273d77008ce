// Bundles every Node-side entry with esbuild (fast CLI start: one file, lazy heavy imports)
// and the renderer with vite. Entries that do not exist yet are skipped with a note.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';

const entries = [
  // The entry answers `tokentray token` for fresh tokens itself and loads the full CLI for everything else.
  { in: 'electron/cli/fast-token.ts', out: 'dist/cli/tokentray.cjs', banner: '#!/usr/bin/env node' },
  { in: 'electron/cli/tokentray.ts', out: 'dist/cli/tokentray-main.cjs' },
  // A fresh token from a shared store (PostgreSQL), loaded by the fast entry only when store.json says so.
  { in: 'electron/cli/shared-token.ts', out: 'dist/cli/tokentray-shared.cjs' },
  { in: 'electron/main/index.ts', out: 'dist/main/index.cjs' },
  { in: 'electron/preload/index.ts', out: 'dist/preload/index.cjs' },
  { in: 'electron/dev/bridge-server.ts', out: 'dist/dev/bridge-server.cjs' },
  // `npm start`'s decision: the tray app, Electron's installer first when the binary is missing, or the bridge.
  { in: 'electron/dev/start-app.ts', out: 'dist/dev/start-app.cjs' },
  { in: 'bench/bench.ts', out: 'dist/bench/bench.cjs' },
];

// ./tokentray-main.cjs is the full CLI and ./tokentray-shared.cjs the shared-store reader, loaded at run time by the fast entry next to them.
const external = [
  'electron',
  'keytar',
  'pg-native',
  'oidc-provider',
  'playwright-core',
  'fsevents',
  './tokentray-main.cjs',
  './tokentray-shared.cjs',
];

// pg asks "am I on Cloudflare Workers?" when loaded, by constructing a fetch Response: on Node 20
// that loads Node's whole fetch implementation, ~15 ms on every `tokentray token` through the
// shared store. Tokentray never runs on Workers, so the probe is answered here, at build time.
const pgWithoutWorkersProbe = {
  name: 'pg-without-workers-probe',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const probe = 'if (isCloudflareRuntime()) {';
      if (!source.includes(probe))
        throw new Error(`pg changed ${args.path}: review the Workers probe patch in scripts/build.mjs`);
      return { contents: source.replace(probe, 'if (false) {'), loader: 'js' };
    });
  },
};

for (const entry of entries) {
  if (!existsSync(entry.in)) {
    console.log(`build: skipping ${entry.in} (not present)`);
    continue;
  }
  await build({
    entryPoints: [entry.in],
    outfile: entry.out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: false,
    external,
    plugins: [pgWithoutWorkersProbe],
    banner: entry.banner ? { js: entry.banner } : undefined,
    logLevel: 'warning',
    legalComments: 'none',
  });
}

if (existsSync('renderer/index.html') && !process.argv.includes('--no-renderer')) {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
}
