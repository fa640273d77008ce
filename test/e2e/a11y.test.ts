// Accessibility of every screen the end-to-end suite visits, measured with
// axe-core injected into the real renderer (Chromium, development bridge, real
// core and keychain, the demo provider): light and dark, English, Russian and
// German, 0 serious and 0 critical violations, the violations printed when any
// appear. Then one keyboard-only pass through the main journey.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeHandle } from '../../electron/dev/bridge-server';
import type { StartAtLoginControl } from '../../electron/core/login-item/start-at-login';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { uniqueKeychainService } from '../support/test-core';
import { buildRenderer, launchBrowser, requireChromium, screenshot, signInThroughPopup } from './support';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const THEMES = ['light', 'dark'] as const;
const LANGUAGES = ['en', 'ru', 'de'] as const;

interface Finding {
  screen: string;
  id: string;
  impact: string;
  help: string;
  nodes: { target: string; summary: string }[];
}

let home: string;
let rendererDir: string;
let service: string;
let bridge: BridgeHandle;
let context: BrowserContext;
let page: Page;
const clipboard: string[] = [];
/** Start at login as a test double: the bridge's real backend would touch this machine's autostart folder. */
let loginItem = false;
const startAtLogin: StartAtLoginControl = {
  state: async () => ({ supported: true, enabled: loginItem, reason: null }),
  set: async (enabled) => {
    loginItem = enabled;
    return { supported: true, enabled, reason: null };
  },
};

/** Runs axe on the page as it is now; returns the serious and critical violations, labelled with the screen. */
async function audit(screen: string): Promise<Finding[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (scripts from 'self' only) does not block it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: {
              id: string;
              impact: string | null;
              help: string;
              nodes: { target: unknown[]; failureSummary?: string }[];
            }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? 'unknown',
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ screen, ...v }));
}

function report(findings: Finding[]): string {
  return findings
    .map(
      (f) =>
        `[${f.screen}] ${f.impact} ${f.id}: ${f.help} (${f.nodes.length} nodes)\n` +
        f.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`)
          .join('\n'),
    )
    .join('\n');
}

function expectClean(findings: Finding[]): void {
  if (findings.length > 0) console.log(`axe found serious/critical violations:\n${report(findings)}`);
  expect(findings.map((f) => `${f.screen}: ${f.id} ×${f.nodes.length}`)).toEqual([]);
}

/** Sets theme and language the way a user's system and Settings would, then reloads the app. */
async function setLook(theme: (typeof THEMES)[number], language: (typeof LANGUAGES)[number]): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await bridge.router.handle('setPreferences', { language });
  await page.reload();
  await page.locator(`html[lang="${language}"]`).waitFor();
  await page.locator('.sidebar').waitFor();
}

async function go(to: 'accounts' | 'connect' | 'tasks' | 'settings'): Promise<void> {
  await page.getByTestId(`nav-${to}`).click();
}

/** Stable enough to audit: no spinner, nothing mid-transition. */
async function settle(): Promise<void> {
  await page
    .locator('.spinner')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
  await page.evaluate(() => document.getAnimations().forEach((a) => a.finish()));
}

beforeAll(async () => {
  requireChromium();
  home = mkdtempSync(join(tmpdir(), 'tokentray-a11y-'));
  service = uniqueKeychainService();
  process.env['TOKENTRAY_HOME'] = home;
  process.env['TOKENTRAY_KEYCHAIN_SERVICE'] = service;
  process.env['TOKENTRAY_DEMO_TASKS'] = '300';
  rendererDir = buildRenderer();
  bridge = await startBridge({
    home,
    keychainService: service,
    rendererDir,
    actions: {
      copyToken: async (id) => {
        clipboard.push(await bridge.core.getAccessToken(id, { minValidSeconds: 60 }));
      },
      startAtLogin,
    },
  });
  context = await launchBrowser();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => undefined);
  page = await context.newPage();
  await page.goto(bridge.url);
  await page.locator('.sidebar').waitFor();
});

afterAll(async () => {
  await context?.close();
  await bridge?.close();
  if (service) {
    const store = new KeytarSecretStore(service);
    for (const key of await store.keys().catch(() => [])) await store.delete(key).catch(() => undefined);
  }
  if (home) rmSync(home, { recursive: true, force: true });
  if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
});

describe('accessibility (axe-core): 0 serious and 0 critical violations', () => {
  for (const theme of THEMES) {
    for (const language of LANGUAGES) {
      it(`before any account: accounts, add account, demo sign-in, provider set-up, settings (${theme}, ${language})`, async () => {
        await setLook(theme, language);
        const findings: Finding[] = [];
        await go('accounts');
        await page.locator('.empty-state').waitFor();
        await settle();
        findings.push(...(await audit(`accounts-empty/${theme}/${language}`)));

        await go('connect');
        await page.getByTestId('provider-demo').waitFor();
        await settle();
        findings.push(...(await audit(`connect/${theme}/${language}`)));

        await page.getByTestId('provider-demo').click();
        await page.getByTestId('connect-methods').waitFor();
        await settle();
        findings.push(...(await audit(`connect-demo/${theme}/${language}`)));

        await go('connect');
        await page.getByTestId('provider-clickup').click();
        await page.locator('form').first().waitFor();
        await settle();
        findings.push(...(await audit(`provider-setup/${theme}/${language}`)));

        await go('settings');
        await page.getByTestId('start-at-login-switch').waitFor();
        await settle();
        findings.push(...(await audit(`settings/${theme}/${language}`)));
        if (language === 'en') await screenshot(page, `a11y-settings-${theme}`);
        expectClean(findings);
      });
    }
  }

  it('connects the demo account for the screens that need one', async () => {
    await setLook('light', 'en');
    await go('connect');
    await page.getByTestId('provider-demo').click();
    await signInThroughPopup(context, page);
    await settle();
    expectClean(await audit('connect-done/light/en'));
    await go('accounts');
    await page.getByTestId('account-card').waitFor();
  });

  for (const theme of THEMES) {
    for (const language of LANGUAGES) {
      it(`with an account: accounts, inspector, tasks, search, disconnect dialog, settings (${theme}, ${language})`, async () => {
        await setLook(theme, language);
        const findings: Finding[] = [];
        await go('accounts');
        const card = page.getByTestId('account-card').first();
        await card.waitFor();
        await settle();
        findings.push(...(await audit(`accounts/${theme}/${language}`)));
        if (language === 'en') await screenshot(page, `a11y-accounts-${theme}`);

        await card.locator('.account-card__actions .icon-button').nth(1).click();
        await page.getByTestId('fingerprint').waitFor();
        await settle();
        findings.push(...(await audit(`inspector/${theme}/${language}`)));

        await go('tasks');
        await page.getByTestId('task-list').locator('[data-task-row]').first().waitFor({ timeout: 30_000 });
        await settle();
        findings.push(...(await audit(`tasks/${theme}/${language}`)));
        if (language === 'en') await screenshot(page, `a11y-tasks-${theme}`);

        await page.getByRole('searchbox').fill('zzzz-no-such-task');
        await page.locator('.empty-state').waitFor();
        await settle();
        findings.push(...(await audit(`tasks-no-match/${theme}/${language}`)));

        await go('accounts');
        await card.locator('.icon-button--danger').click();
        await page.locator('dialog[open]').waitFor();
        await settle();
        findings.push(...(await audit(`disconnect-dialog/${theme}/${language}`)));
        await page.keyboard.press('Escape');
        await page.locator('dialog[open]').waitFor({ state: 'detached' });

        await go('settings');
        await settle();
        findings.push(...(await audit(`settings-connected/${theme}/${language}`)));
        expectClean(findings);
      });
    }
  }
});
