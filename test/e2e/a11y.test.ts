// Accessibility of every screen the end-to-end suite visits, measured with
// axe-core injected into the real renderer (Chromium, development bridge, real
// core and keychain, the demo provider): light and dark, English, Russian and
// German, 0 serious and 0 critical violations, the violations printed when any
// appear. Then one keyboard-only pass through the main journey.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { BridgeHandle } from '../../electron/dev/bridge-server';
import type { StartAtLoginControl } from '../../electron/core/login-item/start-at-login';
import { startClickupEmulator } from '../fakes/clickup-emulator';
import { uniqueKeychainService } from '../support/test-core';
import { controlledCore, type ControlledCore } from './demo-control';
import {
  buildRenderer,
  launchBrowser,
  requireChromium,
  screenshot,
  signInThroughPopup,
  startRecordingBridge,
  tearDownRun,
} from './support';

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
let demo: ControlledCore;
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

interface Focus {
  onBody: boolean;
  name: string;
  testId: string | null;
  /** The focus ring can be seen: an outline on it (or on the label that wraps it), or a form field's ring. */
  visible: boolean;
  tag: string;
}

async function focused(target: Page = page): Promise<Focus> {
  return target.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body || el === document.documentElement) {
      return { onBody: true, name: '', testId: null, visible: false, tag: 'body' };
    }
    const outlined = (node: Element): boolean => {
      const style = getComputedStyle(node);
      return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    };
    const field = ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && getComputedStyle(el).boxShadow !== 'none';
    const wrapped =
      el.parentElement !== null && el.parentElement.matches(':has(:focus-visible)') && outlined(el.parentElement);
    const name = (el.getAttribute('aria-label') ?? el.getAttribute('placeholder') ?? el.textContent ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    return {
      onBody: false,
      name,
      testId: el.getAttribute('data-testid'),
      visible: el.matches(':focus-visible') && (outlined(el) || field || wrapped),
      tag: el.tagName.toLowerCase(),
    };
  });
}

/** Where the keyboard journey was, printed if it fails or times out (a timeout names no line). */
let journeyStep = 'starting';

/** Every Tab stop on the way that had no visible focus, or lost focus to the page: reported at the end. */
const focusProblems: string[] = [];

/** What a Tab stop is known by: its accessible name as `focused` reads it, its test id, its tag. */
interface Stop {
  name?: string;
  testId?: string;
  tag?: string;
}

const isStop = (f: Focus, stop: Stop): boolean =>
  (stop.name === undefined || f.name === stop.name) &&
  (stop.testId === undefined || f.testId === stop.testId) &&
  (stop.tag === undefined || f.tag === stop.tag);

/**
 * Waits until the page shows an enabled, focusable element for the stop, as a user waits for a
 * button to stop being greyed out: a disabled control is skipped by Tab, and tabbing for it before
 * the app has answered would cycle through the page and measure the machine's load, not the app.
 */
async function waitFocusable(stop: Stop, what: string): Promise<void> {
  await page
    .waitForFunction(
      (wanted) =>
        [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]')].some(
          (el) => {
            const name = (el.getAttribute('aria-label') ?? el.getAttribute('placeholder') ?? el.textContent ?? '')
              .replace(/\s+/g, ' ')
              .trim();
            return (
              (wanted.name === undefined || name === wanted.name) &&
              (wanted.testId === undefined || el.getAttribute('data-testid') === wanted.testId) &&
              (wanted.tag === undefined || el.tagName.toLowerCase() === wanted.tag) &&
              el.tabIndex >= 0 &&
              !el.matches(':disabled') &&
              el.getClientRects().length > 0
            );
          },
        ),
      stop,
      { timeout: 20_000 },
    )
    .catch(() => {
      throw new Error(`${what} never became an enabled, visible Tab stop within 20 s`);
    });
}

/** Presses Tab (Shift+Tab with back) until the focused element is the stop; checks every stop on the way. */
async function tabTo(stop: Stop, what: string, options: { back?: boolean; max?: number } = {}): Promise<Focus> {
  journeyStep = `tabbing to ${what}`;
  await waitFocusable(stop, what);
  const visited: string[] = [];
  for (let i = 0; i < (options.max ?? 60); i += 1) {
    await page.keyboard.press(options.back ? 'Shift+Tab' : 'Tab');
    const now = await focused();
    visited.push(now.onBody ? '(page)' : `<${now.tag}> "${now.name}"`);
    if (now.onBody) focusProblems.push(`focus fell to the page while tabbing to ${what}`);
    else if (!now.visible) focusProblems.push(`no visible focus on <${now.tag}> "${now.name}" (tabbing to ${what})`);
    if (isStop(now, stop)) return now;
  }
  throw new Error(`Tab never reached ${what}; the stops were: ${visited.join(', ')}`);
}

/** Polls slower answers than vitest's 1 s default allows: the app talks to the core over the bridge. */
const POLL = { timeout: 15_000, interval: 50 } as const;

beforeAll(async () => {
  requireChromium();
  home = mkdtempSync(join(tmpdir(), 'tokentray-a11y-'));
  service = uniqueKeychainService();
  process.env['TOKENTRAY_HOME'] = home;
  process.env['TOKENTRAY_KEYCHAIN_SERVICE'] = service;
  process.env['TOKENTRAY_DEMO_TASKS'] = '300';
  rendererDir = buildRenderer();
  demo = await controlledCore(home, service);
  bridge = await startRecordingBridge(demo.core, { home, service, rendererDir }, clipboard, { startAtLogin });
  context = await launchBrowser();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => undefined);
  page = await context.newPage();
  await page.goto(bridge.url);
  await page.locator('.sidebar').waitFor();
});

afterAll(async () => {
  await tearDownRun({ context, bridge, demo, service, home, rendererDir });
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

  it('a keyboard-only user connects the demo, refreshes, copies, inspects, searches tasks and disconnects', async () => {
    onTestFailed(async () => {
      console.log(`The keyboard journey stopped while ${journeyStep}; focus is on ${JSON.stringify(await focused())}`);
      await screenshot(page, 'a11y-keyboard-failed');
    });
    await setLook('light', 'en');
    await page.getByRole('heading', { name: 'No accounts yet' }).waitFor();
    // The view's title takes focus on arrival: a screen reader starts there, Tab continues from it.
    await expect.poll(async () => (await focused()).tag, POLL).toBe('h1');

    await tabTo({ name: 'Try the demo' }, '"Try the demo"');
    await page.keyboard.press('Enter');
    await page.getByTestId('connect-methods').waitFor();
    await tabTo({ testId: 'connect-submit' }, 'the sign-in button');
    const consentOpened = context.waitForEvent('page');
    await page.keyboard.press('Enter');
    const consent = await consentOpened;
    // The consent page (the provider's, here the demo's) is keyboard-operable too: Allow has focus.
    // Chromium applies autofocus on a rendering step after the button appears, so wait for the focus itself.
    await consent.getByRole('button', { name: 'Allow' }).waitFor();
    await expect.poll(async () => (await focused(consent)).name, POLL).toBe('Allow');
    await consent.keyboard.press('Enter');
    await page.getByTestId('connect-done').waitFor();
    await consent.close();
    await page.bringToFront();
    await tabTo({ name: 'View accounts' }, '"View accounts"');
    await page.keyboard.press('Enter');
    const card = page.getByTestId('account-card').first();
    await card.waitFor();

    // Refresh with Space: focus stays on the button while it works, so the user is not thrown to the top.
    await tabTo({ name: 'Refresh' }, 'Refresh');
    await page.keyboard.press('Space');
    await page.getByText(/was refreshed/).waitFor();
    const afterRefresh = await focused();
    expect(afterRefresh.onBody, 'focus after refreshing').toBe(false);

    await tabTo({ name: 'Copy token' }, 'Copy token');
    await page.keyboard.press('Enter');
    await page.getByText('Token copied to the clipboard').waitFor();
    expect(clipboard).toHaveLength(1);

    await tabTo({ name: 'Inspect token' }, 'Inspect token', { back: true });
    await page.keyboard.press('Enter');
    await page.getByTestId('fingerprint').waitFor();
    await expect.poll(async () => (await focused()).tag, POLL).toBe('h1');
    await tabTo({ name: 'Accounts' }, 'the back link', { back: true });
    await page.keyboard.press('Enter');
    await card.waitFor();

    // Tasks: through the sidebar, the search field, then the list with the arrow keys.
    await tabTo({ testId: 'nav-tasks' }, 'Tasks in the sidebar', { back: true });
    await page.keyboard.press('Enter');
    const list = page.getByTestId('task-list');
    await list.locator('[data-task-row]').first().waitFor({ timeout: 30_000 });
    await tabTo({ tag: 'input', name: 'Search tasks' }, 'the task search');
    const title = (await list.locator('.task-row__title').first().innerText()).trim();
    const word = title.split(/\s+/).find((w) => w.length > 4) ?? title;
    await page.keyboard.type(word);
    await page
      .getByTestId('task-count')
      .filter({ hasNotText: /^280 tasks$/ })
      .waitFor();
    // Each keystroke asked for its own result; the list shows the last one before it is walked.
    await expect.poll(() => list.getAttribute('data-query'), POLL).toBe(word);
    await tabTo({ testId: 'task-list' }, 'the task list');
    await page.keyboard.press('ArrowDown');
    // The list renders through React's scheduler (and its rows may still be arriving): wait for the frame.
    await expect.poll(() => list.getAttribute('aria-activedescendant'), POLL).toMatch(/^task-\d+$/);
    const activeId = await list.getAttribute('aria-activedescendant');
    const activeRow = page.locator(`#${activeId ?? 'none'}`);
    await expect.poll(() => activeRow.getAttribute('aria-selected'), POLL).toBe('true');
    expect((await activeRow.innerText()).toLowerCase()).toContain(word.toLowerCase());

    // A result that lands while the list has focus (a late search answer) leaves its first task active: focus
    // never sits in a listbox without one. Played by changing the search text without moving focus.
    const shorter = word.slice(0, 3);
    await page.getByPlaceholder('Search tasks').evaluate((input, text) => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
      setValue?.call(input, text);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, shorter);
    await expect.poll(() => list.getAttribute('data-query'), POLL).toBe(shorter);
    expect((await focused()).testId).toBe('task-list');
    await expect.poll(() => list.getAttribute('aria-activedescendant'), POLL).toMatch(/^task-\d+$/);
    await screenshot(page, 'a11y-keyboard-tasks');

    // Disconnect: the dialog takes focus, Escape closes it and gives focus back to the button that opened it.
    await tabTo({ testId: 'nav-accounts' }, 'Accounts in the sidebar', { back: true });
    await page.keyboard.press('Enter');
    await card.waitFor();
    await tabTo({ name: 'Disconnect' }, 'Disconnect');
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    await expect.poll(() => focused(), POLL).toMatchObject({ name: 'Cancel', visible: true });
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
    await expect.poll(() => focused(), POLL).toMatchObject({ name: 'Disconnect', visible: true });
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    await tabTo({ name: 'Disconnect', tag: 'button' }, 'the confirming Disconnect');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'No accounts yet' }).waitFor();
    // The card (and the button that opened the dialog) is gone: focus goes to the view's title, not to nowhere.
    await expect.poll(async () => (await focused()).tag, POLL).toBe('h1');
    await screenshot(page, 'a11y-keyboard-disconnected');

    // Settings: the start-at-login switch is a switch to assistive technology, and Space flips it through IPC.
    await tabTo({ testId: 'nav-settings' }, 'Settings in the sidebar', { back: true });
    await page.keyboard.press('Enter');
    const toggle = page.getByRole('switch', { name: 'Start Tokentray when I log in' });
    await toggle.waitFor();
    // The switch is disabled (skipped by Tab) until main answers with the login item's state; a
    // loaded machine answers late, and tabbing before then runs off the end of the page.
    await expect.poll(() => toggle.isEnabled(), POLL).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    await tabTo({ testId: 'start-at-login-switch' }, 'the start-at-login switch');
    await page.keyboard.press('Space');
    await expect.poll(() => toggle.isChecked(), POLL).toBe(true);
    expect(loginItem).toBe(true);
    await page.keyboard.press('Space');
    await expect.poll(() => toggle.isChecked(), POLL).toBe(false);
    expect(loginItem).toBe(false);
    expect((await focused()).testId).toBe('start-at-login-switch');

    expect(focusProblems).toEqual([]);
    // The ring check itself can fail: the same stop with its outline taken away is reported as invisible.
    await tabTo({ testId: 'nav-accounts' }, 'Accounts in the sidebar', { back: true });
    expect((await focused()).visible).toBe(true);
    await page.evaluate(() => {
      (document.activeElement as HTMLElement).style.outline = 'none';
    });
    expect((await focused()).visible).toBe(false);
    await page.evaluate(() => {
      (document.activeElement as HTMLElement).style.outline = '';
    });
    // About 150 key presses, each answered by the page before the next: minutes, not seconds, on a loaded runner.
  }, 180_000);

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
        // The countdown ticks every second: a timer (implicitly aria-live="off"), inside no live region, so a
        // screen reader is not interrupted each second; the text is still there when the user reads the card.
        const countdownLive = await card.getByTestId('countdown').evaluate((el) => ({
          role: el.getAttribute('role'),
          live:
            el.closest('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]') !== null,
        }));
        expect(countdownLive).toEqual({ role: 'timer', live: false });
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

  for (const theme of THEMES) {
    for (const language of LANGUAGES) {
      it(`the provider is down: tasks from the cache with the offline banner (${theme}, ${language})`, async () => {
        await setLook(theme, language);
        demo.setDemoApiOutage(true);
        try {
          await go('tasks');
          await page.getByTestId('task-list').locator('[data-task-row]').first().waitFor({ timeout: 30_000 });
          await page.getByTestId('tasks-reload').click();
          await page.getByTestId('offline-badge').waitFor();
          await settle();
          const findings = await audit(`tasks-offline/${theme}/${language}`);
          if (language === 'en') await screenshot(page, `a11y-tasks-offline-${theme}`);
          expectClean(findings);
        } finally {
          demo.setDemoApiOutage(false);
        }
      });
    }
  }

  it('the provider revokes the account', async () => {
    await demo.revokeDemoTokens();
    const [account] = await bridge.core.listAccounts();
    expect(account?.provider).toBe('demo');
    await bridge.router.handle('refresh', { accountId: account?.id });
    expect((await bridge.core.listAccounts())[0]?.status).toBe('reconnect');
  });

  for (const theme of THEMES) {
    for (const language of LANGUAGES) {
      it(`an account to reconnect: its card and the reconnect sign-in (${theme}, ${language})`, async () => {
        await setLook(theme, language);
        const findings: Finding[] = [];
        await go('accounts');
        await page.locator('[data-testid="account-card"][data-status="reconnect"]').waitFor();
        await settle();
        findings.push(...(await audit(`accounts-reconnect/${theme}/${language}`)));
        if (language === 'en') await screenshot(page, `a11y-accounts-reconnect-${theme}`);
        await page.locator('.account-card__actions .button--primary').click();
        await page.getByTestId('connect-methods').waitFor();
        await settle();
        findings.push(...(await audit(`connect-reconnect/${theme}/${language}`)));
        expectClean(findings);
      });
    }
  }

  it('a workspace the provider would not hand over is named above the tasks (every theme and language)', async () => {
    // A ClickUp login whose second workspace answers "Team not authorized" (OAUTH_027).
    const cu = await startClickupEmulator({ redirectUri: 'http://127.0.0.1:8977/callback/clickup', taskCount: 12 });
    let accountId: string | null = null;
    try {
      await demo.core.setProvider('clickup', {
        clientId: cu.clientId,
        clientSecret: cu.clientSecret,
        redirectUri: cu.redirectUri,
        authorizeUrl: `${cu.url}/api`,
        tokenUrl: `${cu.url}/api/v2/oauth/token`,
        apiUrl: `${cu.url}/api/v2`,
      });
      accountId = (
        await demo.core.connectWithToken('clickup', cu.issuePersonalToken('alice'), { label: 'work-clickup' })
      ).id;
      cu.withdrawTeam(cu.teams[1]!.id);
      const findings: Finding[] = [];
      for (const theme of THEMES) {
        for (const language of LANGUAGES) {
          await setLook(theme, language);
          await go('tasks');
          const notice = page.getByTestId('skipped-notice');
          await notice.waitFor({ timeout: 30_000 });
          expect(await notice.textContent()).toContain(cu.teams[1]!.name);
          await settle();
          findings.push(...(await audit(`tasks-skipped/${theme}/${language}`)));
          if (language === 'en') await screenshot(page, `a11y-tasks-skipped-${theme}`);
        }
      }
      expectClean(findings);
    } finally {
      if (accountId !== null) await demo.core.disconnect(accountId);
      await cu.close();
    }
  }, 180_000);
});
