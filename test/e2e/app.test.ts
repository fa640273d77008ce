// The renderer in real Chromium against the development bridge, the real core,
// the real OS keychain and the in-process demo provider. One user journey, in
// order: connect through the browser, refresh, inspect, browse 10,000 tasks,
// switch language, get revoked, disconnect; every IPC frame and every screen is
// checked for the account's tokens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeHandle } from '../../electron/dev/bridge-server';
import type { TokentrayCore } from '../../electron/core/service';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { uniqueKeychainService } from '../support/test-core';
import { controlledCore, type ControlledCore } from './demo-control';
import {
  buildRenderer,
  launchBrowser,
  pageText,
  recordFrames,
  requireChromium,
  screenshot,
  signInThroughPopup,
  startRecordingBridge,
  tearDownRun,
} from './support';

const TASKS = 10_000;

let home: string;
let rendererDir: string;
let service: string;
let bridge: BridgeHandle;
let demo: ControlledCore;
let context: BrowserContext;
let page: Page;
let frames: string[];
/** Snapshots of the page after each step; checked for tokens at the end. */
const screens: string[] = [];
/** Every access and refresh token the account has held during the run. */
const secrets = new Set<string>();
/** What "Copy token" put on the (recorded) clipboard. */
const clipboard: string[] = [];
let accountId = '';

function core(): TokentrayCore {
  return bridge.core as TokentrayCore;
}

/** The real tokens, read the way the CLI would (plus the refresh token from the keychain item). */
async function collectSecrets(): Promise<void> {
  secrets.add(await core().getAccessToken(accountId));
  const { secret } = await core().repo.load(accountId);
  secrets.add(secret.tokens.accessToken);
  if (secret.tokens.refreshToken) secrets.add(secret.tokens.refreshToken);
}

async function snapshot(name: string): Promise<void> {
  screens.push(await pageText(page));
  await screenshot(page, name);
}

function card(): Locator {
  return page.getByTestId('account-card').first();
}

beforeAll(async () => {
  requireChromium();
  home = mkdtempSync(join(tmpdir(), 'tokentray-e2e-'));
  service = uniqueKeychainService();
  process.env['TOKENTRAY_HOME'] = home;
  process.env['TOKENTRAY_KEYCHAIN_SERVICE'] = service;
  process.env['TOKENTRAY_DEMO_TASKS'] = String(TASKS);

  const probe = new KeytarSecretStore(service);
  try {
    await probe.set('probe', 'probe');
    await probe.delete('probe');
  } catch (error) {
    throw new Error(
      `No usable keychain (${error instanceof Error ? error.message : String(error)}). Run the e2e tests inside a keychain session: npm test, or scripts/with-keyring.mjs npx vitest run test/e2e`,
    );
  }

  rendererDir = buildRenderer();
  demo = await controlledCore(home, service);
  bridge = await startRecordingBridge(demo.core, { home, service, rendererDir }, clipboard);
  context = await launchBrowser();
  page = await context.newPage();
  frames = recordFrames(page);
});

afterAll(async () => {
  await tearDownRun({ context, bridge, demo, service, home, rendererDir });
});

describe('Tokentray in Chromium over the development bridge', () => {
  it('starts empty and offers the demo', async () => {
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'No accounts yet' }).waitFor();
    // The one-time bridge key is moved out of the address bar.
    expect(page.url()).not.toContain(bridge.token);
    await snapshot('01-empty');
  });

  it('is styled by the one bundled stylesheet, served under the CSP: tokens, base rules and components', async () => {
    const styles = await page.evaluate(() => {
      const css = (selector: string) => getComputedStyle(document.querySelector(selector) as Element);
      return {
        sheets: [...document.styleSheets].map((sheet) => (sheet.href ? new URL(sheet.href).pathname : 'inline')),
        pageBackground: css('body').backgroundColor, // base.css from tokens.css's --bg
        sidebarBackground: css('.sidebar').backgroundColor, // sidebar.css
        emptyStateBorder: css('.empty-state').borderTopStyle, // states.css
        primaryButton: css('.button--primary').backgroundColor, // controls.css from --accent
      };
    });
    expect(styles).toEqual({
      sheets: [expect.stringMatching(/^\/assets\/index-[\w-]+\.css$/)],
      pageBackground: 'rgb(244, 245, 248)',
      sidebarBackground: 'rgb(236, 238, 243)',
      emptyStateBorder: 'dashed',
      primaryButton: 'rgb(79, 70, 229)',
    });
  });

  it('connects a demo account through the browser and the loopback redirect', async () => {
    await page.getByRole('button', { name: 'Try the demo' }).click();
    await page.getByTestId('connect-methods').waitFor();
    await snapshot('02-connect-method');

    const consentPage = context.waitForEvent('page');
    await page.getByTestId('connect-submit').click();
    await page.getByTestId('connect-waiting').waitFor();
    await snapshot('03-connect-waiting');

    const consent = await consentPage;
    await consent.getByRole('button', { name: 'Allow' }).click();
    await consent.waitForLoadState();
    await page.getByTestId('connect-done').waitFor();
    await snapshot('04-connect-done');
    await consent.close();

    await page.getByRole('button', { name: 'View accounts' }).click();
    await card().waitFor();
    accountId = (await card().getAttribute('data-account-id')) ?? '';
    expect(accountId).not.toBe('');
    expect(await card().getAttribute('data-status')).toBe('ok');
    await card().locator('.badge--demo').waitFor();
    await collectSecrets();
  });

  it('shows a live countdown to expiry', async () => {
    const countdown = card().getByTestId('countdown');
    const first = await countdown.innerText();
    expect(first).toMatch(/^Expires in \d+m( \d+s)?$/);
    // It ticks on its own, without reloading anything.
    await page.waitForFunction(([selector, before]) => document.querySelector(selector)?.textContent !== before, [
      '[data-testid="account-card"] [data-testid="countdown"]',
      first,
    ] as const);
    await snapshot('05-accounts');
  });

  it('refreshes the token from the accounts list', async () => {
    const before = await core().inspect(accountId);
    await card().getByRole('button', { name: 'Refresh', exact: true }).click();
    await page.getByText(/was refreshed$/).waitFor();
    await card()
      .getByText(/^Refreshed /)
      .waitFor();
    const after = await core().inspect(accountId);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.refreshHistory[0]?.outcome).toBe('ok');
    await collectSecrets();
  });

  it('copies the token in the main process, never through the page', async () => {
    await card().getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Token copied to the clipboard').waitFor();
    expect(clipboard).toHaveLength(1);
    expect(secrets.has(clipboard[0] ?? '')).toBe(true);
  });

  it('inspects the JWT offline: timeline, scopes, claims as dates, fingerprint, history', async () => {
    await card().getByRole('button', { name: 'Inspect token' }).click();
    const claims = page.getByTestId('jwt-claims');
    await claims.waitFor();
    const inspection = await core().inspect(accountId);
    const exp = inspection.jwt?.claims['exp'];
    expect(typeof exp).toBe('number');
    const expRow = claims.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'exp', exact: true }) });
    // The raw NumericDate and the same instant as a readable date.
    await expRow.getByText(String(exp), { exact: true }).waitFor();
    const expText = await expRow.innerText();
    expect(expText).toContain(String(new Date((exp as number) * 1000).getFullYear()));
    await page.getByTestId('fingerprint').getByText(inspection.fingerprint, { exact: true }).waitFor();
    for (const scope of inspection.scopes) await page.getByText(scope, { exact: true }).first().waitFor();
    await page.getByTestId('refresh-history').getByText('Refreshed').first().waitFor();
    await page.getByRole('meter').waitFor();
    await snapshot('06-inspect');
  });

  it(`browses ${TASKS.toLocaleString('en-US')} tasks with at most 80 rows in the DOM`, async () => {
    await page.getByTestId('nav-tasks').click();
    await page.getByRole('radio', { name: 'All' }).click();
    await page
      .getByTestId('task-count')
      .getByText(`${TASKS.toLocaleString('en-US')} tasks`)
      .waitFor();
    await snapshot('07-tasks');

    const list = page.getByTestId('task-list');
    const rows = list.locator('[data-task-row]');
    let maxRows = await rows.count();
    const height = await list.evaluate((el) => el.scrollHeight);
    expect(height).toBeGreaterThan(TASKS * 50);
    for (let top = 0; top < height; top += Math.floor(height / 25)) {
      await list.evaluate((el, y) => el.scrollTo(0, y), top);
      await page.waitForFunction((y) => {
        const el = document.querySelector('[data-testid="task-list"]');
        const rendered = [...(el?.querySelectorAll('[data-index]') ?? [])].map((r) =>
          Number((r as HTMLElement).style.transform.replace(/[^\d.]/g, '')),
        );
        return rendered.some((start) => Math.abs(start - y) < 2000);
      }, top);
      maxRows = Math.max(maxRows, await rows.count());
    }
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await list.locator(`[aria-posinset="${TASKS}"]`).waitFor();
    maxRows = Math.max(maxRows, await rows.count());
    expect(maxRows).toBeGreaterThan(5);
    expect(maxRows).toBeLessThanOrEqual(80);
    await snapshot('08-tasks-end');
  });

  it(`pages ${TASKS.toLocaleString('en-US')} tasks across IPC: no answer carries the list, every row arrives`, async () => {
    const list = page.getByTestId('task-list');
    // The list crossed in windows: no frame from the core is anywhere near 10,000 tasks (~4.7 MB).
    const largest = Math.max(...frames.map((f) => f.length));
    expect(largest).toBeLessThan(500_000);
    // Jump into the middle, then to the end with the keyboard: the rows there come in and are real tasks.
    const height = await list.evaluate((el) => el.scrollHeight);
    await list.evaluate((el, y) => el.scrollTo(0, y), Math.floor(height / 2));
    // The rows drawn there are real tasks from the middle of the list, with titles.
    const middlePosition = await page
      .waitForFunction((total) => {
        const rows = [...document.querySelectorAll('[data-testid="task-list"] [data-task-row]')];
        const positions = rows.map((r) => Number(r.getAttribute('aria-posinset')));
        const middle = positions.find((p) => p > total * 0.3 && p < total * 0.7);
        return middle ?? false;
      }, TASKS)
      .then((handle) => handle.jsonValue() as Promise<number>);
    const middle = list.locator(`[aria-posinset="${middlePosition}"]`);
    expect((await middle.locator('.task-row__title').innerText()).trim().length).toBeGreaterThan(0);
    await list.focus();
    await page.keyboard.press('End');
    const last = list.locator(`[aria-posinset="${TASKS}"]`);
    await last.waitFor();
    expect(await last.getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Home');
    await list.locator('[aria-posinset="1"][aria-selected="true"]').waitFor();
  });

  it('searches as you type: each keystroke narrows, the last one wins, and its results scroll to the end', async () => {
    const list = page.getByTestId('task-list');
    const search = page.getByRole('searchbox', { name: 'Search tasks' });
    const word = 'agenda';
    // Typed key by key, not filled: answers for "a", "ag", … may arrive late and must not win.
    await search.pressSequentially(word, { delay: 15 });
    const counted = async (): Promise<number> =>
      Number((await page.getByTestId('task-count').innerText()).replace(/\D/g, ''));
    await page.waitForFunction(() => document.querySelector('[data-testid="task-list"] [data-task-row]') !== null);
    await expect
      .poll(
        async () => {
          const titles = await list.locator('[data-task-row] .task-row__title').allInnerTexts();
          return titles.length > 0 && titles.every((t) => t.toLowerCase().includes(word));
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const matched = await counted();
    expect(matched).toBeGreaterThan(0);
    expect(matched).toBeLessThan(TASKS);
    // The same number the core counts for the finished word.
    const direct = await bridge.router.handle('taskViewOpen', {
      accountIds: [accountId],
      query: word,
      status: 'all',
      today: await page.evaluate(() => {
        const d = new Date();
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      }),
      seq: 0,
      count: 1,
    });
    expect(direct).toMatchObject({ ok: true, data: { window: { matched } } });
    if (direct.ok) await bridge.router.handle('taskViewClose', { viewId: (direct.data as { viewId: string }).viewId });
    // Scrolled to the end of the results: the last match is there, and it matches.
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    const last = list.locator(`[aria-posinset="${matched}"]`);
    await last.waitFor();
    expect((await last.locator('.task-row__title').innerText()).toLowerCase()).toContain(word);
    await search.fill('');
    await page
      .getByTestId('task-count')
      .getByText(`${TASKS.toLocaleString('en-US')} tasks`)
      .waitFor();
  });

  it('filters tasks by search', async () => {
    const list = page.getByTestId('task-list');
    const firstTitle = (await list.locator('[data-task-row] .task-row__title').first().innerText()).trim();
    const word = firstTitle.split(/\s+/).find((w) => w.length > 4) ?? firstTitle;
    await page.getByRole('searchbox', { name: 'Search tasks' }).fill(word);
    // The count changes once the (deferred) filter has run; an empty row set would match any word.
    await page.waitForFunction(
      (total) => !document.querySelector('[data-testid="task-count"]')?.textContent?.startsWith(total),
      TASKS.toLocaleString('en-US'),
    );
    // Search looks at title, project, workspace and assignees: the word is somewhere in each row.
    const found = await list.locator('[data-task-row]').allInnerTexts();
    expect(found.length).toBeGreaterThan(0);
    for (const text of found) expect(text.toLowerCase()).toContain(word.toLowerCase());
    const count = await page.getByTestId('task-count').innerText();
    expect(Number(count.replace(/\D/g, ''))).toBeLessThan(TASKS);
    expect(Number(count.replace(/\D/g, ''))).toBeGreaterThan(0);
    await page.getByRole('searchbox', { name: 'Search tasks' }).fill('');
  });

  it('shows the cached tasks with an offline badge and their age when the provider is down', async () => {
    demo.setDemoApiOutage(true);
    try {
      await page.getByRole('button', { name: 'Reload' }).click();
      const badge = page.getByTestId('offline-badge');
      await badge.waitFor();
      expect(await badge.innerText()).toMatch(/Offline/);
      expect(await badge.innerText()).toMatch(/ago|now/i);
      // The cached list is still all there.
      await page
        .getByTestId('task-count')
        .getByText(`${TASKS.toLocaleString('en-US')} tasks`)
        .waitFor();
      await snapshot('08b-tasks-offline');
    } finally {
      demo.setDemoApiOutage(false);
    }
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.getByTestId('offline-badge').waitFor({ state: 'detached' });
  });

  it('switches the interface to Russian and German, and back', async () => {
    await page.getByTestId('nav-settings').click();
    const select = page.getByTestId('language-select');
    await select.selectOption('ru');
    await page.getByRole('button', { name: 'Аккаунты' }).waitFor();
    await page.getByRole('heading', { name: 'Настройки' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ru');
    await snapshot('09-settings-ru');

    await select.selectOption('de');
    await page.getByRole('button', { name: 'Konten' }).waitFor();
    await page.getByTestId('nav-accounts').click();
    await card().getByRole('button', { name: 'Erneuern' }).waitFor();
    await card()
      .getByText(/^Läuft ab in /)
      .waitFor();
    await snapshot('10-accounts-de');

    // The choice is kept by the core, so a reload (or the next start) keeps it.
    await page.reload();
    await page.getByRole('button', { name: 'Konten' }).waitFor();
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('language-select').selectOption('en');
    await page.getByRole('button', { name: 'Accounts' }).waitFor();
  });

  it('shows the view main asks for (the tray\'s "Connect account…")', async () => {
    bridge.router.emit('navigate', { to: 'connect' });
    await page.locator('main[data-route="connect"]').waitFor();
    bridge.router.emit('navigate', { to: 'accounts' });
    await page.locator('main[data-route="accounts"]').waitFor();
  });

  it('turns a revoked account into "reconnect"', async () => {
    await page.getByTestId('nav-accounts').click();
    await card().waitFor();
    await demo.revokeDemoTokens();
    // Whatever uses the token first after the revocation finds out: this click, or a task page the
    // core is still fetching from the steps before (its 401 costs one refresh, which is refused).
    const reconnecting = page.locator('[data-testid="account-card"][data-status="reconnect"]');
    await Promise.race([
      reconnecting.waitFor(),
      card()
        .getByRole('button', { name: 'Refresh', exact: true })
        // Short: if the background won, the button is gone and must not be clicked once it is back.
        .click({ timeout: 3_000 })
        .then(() => reconnecting.waitFor())
        .catch(() => reconnecting.waitFor()),
    ]);
    await card().getByRole('button', { name: 'Reconnect' }).waitFor();
    await card().getByText("no longer accepts this account's refresh token").waitFor();
    await snapshot('11-reconnect');
  });

  it('reconnects the revoked account through the browser again', async () => {
    await card().getByRole('button', { name: 'Reconnect' }).click();
    await signInThroughPopup(context, page);
    await page.getByRole('button', { name: 'View accounts' }).click();
    await page.locator(`[data-testid="account-card"][data-account-id="${accountId}"][data-status="ok"]`).waitFor();
    expect(await page.getByTestId('account-card').count()).toBe(1);
    await collectSecrets();
    await snapshot('12-reconnected');
  });

  it('never shows or sends the access token or the refresh token', async () => {
    screens.push(await pageText(page));
    expect(secrets.size).toBeGreaterThanOrEqual(4);
    expect(frames.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      const inFrames = frames.filter((f) => f.includes(secret)).length;
      const onScreens = screens.filter((s) => s.includes(secret)).length;
      expect({ inFrames, onScreens }).toEqual({ inFrames: 0, onScreens: 0 });
      // Nor any long piece of it (a JWT's signature alone would be enough to matter).
      const tail = secret.slice(-24);
      expect(frames.some((f) => f.includes(tail))).toBe(false);
    }
  });

  it('disconnects after a confirmation', async () => {
    await card().getByRole('button', { name: 'Disconnect' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await snapshot('13-disconnect-confirm');
    await dialog.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('heading', { name: 'No accounts yet' }).waitFor();
    expect(await core().listAccounts()).toEqual([]);
  });

  it('sets up a provider from the window with its client id and secret, and nothing else', async () => {
    await page.getByTestId('nav-connect').click();
    await page.getByTestId('provider-clickup').click();
    // ClickUp takes personal tokens without set-up, so the app registration is one step further.
    await page.getByRole('button', { name: 'Set up the app' }).click();
    await page.getByLabel('Client id').fill('e2e-client');
    await page.getByLabel('Client secret').fill('e2e-client-secret-value');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByTestId('connect-methods').waitFor();
    const clickup = (await core().listProviders()).find((p) => p.id === 'clickup');
    expect(clickup).toMatchObject({ configured: true, redirectUri: 'http://127.0.0.1:8977/callback/clickup' });
    // The window has no way to move the endpoints: the stored set-up keeps ClickUp's own.
    const stored = await core().metadata.readProvider('clickup');
    expect(stored).toMatchObject({ clientId: 'e2e-client', authorizeUrl: null, tokenUrl: null, apiUrl: null });
    expect(frames.some((f) => f.includes('e2e-client-secret-value') && f.includes('"ok":true'))).toBe(false);
  });
});
