// Shared set-up for the end-to-end tests: the system Chromium (never a
// downloaded one), a renderer built into a temp folder, and a recorder for
// every WebSocket frame between the page and the development bridge.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { IpcActions } from '../../electron/core/ipc-router';
import type { TokentrayService } from '../../electron/core/service-api';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { startBridge, type BridgeHandle } from '../../electron/dev/bridge-server';

export const CHROMIUM = process.env['TOKENTRAY_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve('test-output', 'screenshots');

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The end-to-end tests drive the system Chromium at ${CHROMIUM}, which is missing. ` +
        'Install it (Debian/Ubuntu: sudo apt-get install chromium) or point TOKENTRAY_CHROMIUM at a Chromium binary. ' +
        'They never download a browser (do not run `npx playwright install`).',
    );
  }
}

/** Builds the renderer into a fresh folder, so parallel test files never share (or race on) dist/. */
export function buildRenderer(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'tokentray-renderer-'));
  const result = spawnSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  return outDir;
}

export async function launchBrowser(
  options: { locale?: string; colorScheme?: 'light' | 'dark' } = {},
): Promise<BrowserContext> {
  requireChromium();
  // A fresh profile per run; Playwright takes it as the persistent context's folder rather than as --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'tokentray-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    locale: options.locale ?? 'en-US',
    colorScheme: options.colorScheme ?? 'light',
  });
}

/** Every WebSocket frame the page sends or receives, as text. */
export function recordFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (frame) => frames.push(String(frame.payload)));
    ws.on('framereceived', (frame) => frames.push(String(frame.payload)));
  });
  return frames;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Everything a user (or a screen reader, or devtools) could read from the page right now. */
export async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll('input, textarea, select')].map(
      (el) => (el as HTMLInputElement).value,
    );
    return [
      document.documentElement.outerHTML,
      document.body.innerText,
      values.join('\n'),
      JSON.stringify(sessionStorage),
      JSON.stringify(localStorage),
    ].join('\n');
  });
}

/**
 * The development bridge over a test's core, with "Copy token" recorded into `clipboard` for the
 * test to read (and scan) instead of reaching this machine's clipboard.
 */
export function startRecordingBridge(
  core: TokentrayService,
  run: { home: string; service: string; rendererDir: string },
  clipboard: string[],
  actions: Partial<IpcActions> = {},
): Promise<BridgeHandle> {
  return startBridge({
    core,
    home: run.home,
    keychainService: run.service,
    rendererDir: run.rendererDir,
    actions: {
      copyToken: async (id) => {
        clipboard.push(await core.getAccessToken(id, { minValidSeconds: 60 }));
      },
      ...actions,
    },
  });
}

/** Starts the browser sign-in from the connect screen and plays the user on the demo's consent page. */
export async function signInThroughPopup(context: BrowserContext, page: Page): Promise<void> {
  const consentPage = context.waitForEvent('page');
  await page.getByTestId('connect-submit').click();
  const consent = await consentPage;
  await consent.getByRole('button', { name: 'Allow' }).click();
  await page.getByTestId('connect-done').waitFor();
  await consent.close();
}

/**
 * Ends an E2E run: browser, bridge and demo closed, then the run's keychain items, state folder
 * and renderer build removed. Each piece may be missing when beforeAll failed part-way.
 */
export async function tearDownRun(run: {
  context?: BrowserContext | undefined;
  bridge?: { close(): Promise<void> } | undefined;
  demo?: { close(): Promise<void> } | undefined;
  service?: string | undefined;
  home?: string | undefined;
  rendererDir?: string | undefined;
}): Promise<void> {
  await run.context?.close();
  await run.bridge?.close();
  await run.demo?.close();
  if (run.service) {
    const store = new KeytarSecretStore(run.service);
    for (const key of await store.keys().catch(() => [])) await store.delete(key).catch(() => undefined);
  }
  if (run.home) rmSync(run.home, { recursive: true, force: true });
  if (run.rendererDir) rmSync(run.rendererDir, { recursive: true, force: true });
}
