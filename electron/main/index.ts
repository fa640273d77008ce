// Composition root of the desktop app: builds the core and hands each Electron
// piece (window, tray, IPC, deep links, background refresh, notifications) what
// it needs. Behaviour lives in the core and in the small modules beside this file.
import { app, net, powerMonitor, session } from 'electron';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../core/clock';
import { toAppError } from '../core/errors';
import { createIpcRouter, filePreferences } from '../core/ipc-router';
import { resolveStateDir } from '../core/paths';
import { ExpiryNoticeBook, fileNotices, type ExpiryNotice } from '../core/refresh/expiry-notices';
import { StartAtLogin } from '../core/login-item/start-at-login';
import { createRefreshScheduler, type RefreshScheduler } from '../core/refresh/scheduler';
import { startBackgroundSync } from '../core/tasks/background-sync';
import { watchAccountsDir } from '../core/vault/state-watch';
import type { TokentrayService } from '../core/service-api';
import type { AccountSummary } from '../shared/models';
import { registerAppScheme, serveAppScheme } from './app-protocol';
import { TokenClipboard } from './clipboard';
import { DeepLinkInbox, deepLinkFromArgv, registerProtocolClient } from './deep-links';
import { APP_USER_MODEL_ID } from './protocol-policy';
import { registerIpc } from './ipc';
import { loginItemBackend, startsHidden } from './login-item';
import { ExpiryNotifier } from './notifications';
import { denyPermissions, guardAllWebContents, openInBrowser } from './security';
import { TrayService } from './tray';
import { MainWindow } from './window';

// Bundled to dist/main/index.cjs; the preload, renderer and (packaged: inside app.asar) icons sit relative to it.
const PRELOAD = join(__dirname, '..', 'preload', 'index.cjs');
const RENDERER_DIR = join(__dirname, '..', 'renderer');
const ICONS_DIR = join(__dirname, '..', '..', 'build', 'icons');
const APP_ICON = join(__dirname, '..', '..', 'build', 'icon.png');
const TRAY_REFRESH_MS = 60_000;
const SHARED_STORE_DOWN = 'shared store unreachable: showing tokens cached on this machine';

app.setName('Tokentray');
// electron.d.ts, app.setAppUserModelId (win32): the NSIS shortcuts carry electron-builder's appId as their
// AppUserModelID; the running process must claim the same one, or Windows groups its taskbar button apart
// from the shortcut and drops or misattributes its notifications.
if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
// One state folder for the app and the CLI (TOKENTRAY_HOME in tests): the single-instance lock lives there too,
// so a test instance never collides with the user's running app.
const stateDir = resolveStateDir();
app.setPath('userData', stateDir);
registerAppScheme();
guardAllWebContents();

const inbox = new DeepLinkInbox();
const QUIT_FLAG = '--quit';

if (process.argv.includes(QUIT_FLAG) && !app.requestSingleInstanceLock()) {
  // Handed to the running instance through 'second-instance', which quits.
  app.quit();
} else if (process.argv.includes(QUIT_FLAG)) {
  // Nothing is running: there is nothing to quit, and this process must not become the tray app.
  app.releaseSingleInstanceLock();
  app.quit();
} else if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray; it received our argv (and any deep link) through 'second-instance'.
  app.quit();
} else {
  run();
}

function run(): void {
  let window: MainWindow | null = null;
  app.on('second-instance', (_event, argv) => {
    // `tokentray-desktop --quit` asks the running tray app to quit (scripts, the packaged-app smoke check).
    if (argv.includes(QUIT_FLAG)) {
      app.quit();
      return;
    }
    inbox.push(deepLinkFromArgv(argv));
    window?.open();
  });
  // macOS delivers links (even the one that launched the app) here, possibly before ready.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    inbox.push(deepLinkFromArgv([url]));
  });
  inbox.push(deepLinkFromArgv(process.argv));
  registerProtocolClient();
  // A tray app keeps running with its window closed; Quit is in the tray menu.
  app.on('window-all-closed', () => undefined);

  app
    .whenReady()
    .then(async () => {
      window = new MainWindow({ preloadPath: PRELOAD, iconPath: APP_ICON });
      await start(window);
    })
    .catch((error: unknown) => {
      console.error(`Tokentray could not start: ${error instanceof Error ? error.message : String(error)}`);
      app.exit(1);
    });
}

async function start(window: MainWindow): Promise<void> {
  const { createTokentrayCore } = await import('../core/create-core');
  const core: TokentrayService = await createTokentrayCore({ home: stateDir });
  const ses = session.defaultSession;
  denyPermissions(ses);
  serveAppScheme(ses, RENDERER_DIR);

  const clipboard = new TokenClipboard();
  const startAtLogin = new StartAtLogin(loginItemBackend(), join(stateDir, 'start-at-login.json'));
  const router = createIpcRouter(core, {
    startAtLogin,
    copyToken: async (accountId) => clipboard.copy(await core.getAccessToken(accountId, { minValidSeconds: 60 })),
    // The router has checked the URL already; openInBrowser checks it again, as every opener in main does.
    openExternal: async (url) => {
      await openInBrowser(url);
    },
    preferences: filePreferences(join(stateDir, 'preferences.json')),
  });
  const stopIpc = registerIpc(router, window);

  const reconnect = (account: Pick<AccountSummary, 'provider' | 'label'>): void => {
    window.open();
    void router.handle('startConnect', { provider: account.provider, label: account.label }).then((result) => {
      const started = result.ok ? (result.data as { authorizeUrl?: unknown }) : null;
      if (started && typeof started.authorizeUrl === 'string') void openInBrowser(started.authorizeUrl);
    });
  };

  let scheduler: RefreshScheduler | null = null;
  const tray = new TrayService({
    iconsDir: ICONS_DIR,
    now: () => systemClock.now(),
    listAccounts: () => core.listAccounts(),
    isOnline: () => net.isOnline(),
    retryingCount: () => scheduler?.retrying().size ?? 0,
    openWindow: () => window.open(),
    connectAccount: () => {
      const wasOpen = window.current !== null;
      window.open(true, 'connect');
      if (wasOpen) router.emit('navigate', { to: 'connect' });
    },
    copyToken: (accountId) => {
      void router.handle('copyToken', { accountId });
    },
    reconnect,
    quit: () => app.quit(),
  });

  const notices = new ExpiryNoticeBook(await fileNotices(join(stateDir, 'expiry-notices.json')));
  const notifier = new ExpiryNotifier(
    (notice: ExpiryNotice) => reconnect(notice),
    APP_ICON,
    // The OS refused the notification: the warning stays in the tray, and the reason goes to the log (no secrets in either).
    (notice, error) => {
      console.error(`Tokentray: a notification could not be shown (${error}); showing it in the tray instead.`);
      tray.showNotice(notice.title, () => reconnect(notice));
    },
  );
  scheduler = createRefreshScheduler({
    core,
    clock: systemClock,
    onRefreshed: (account) => {
      router.emit('refreshResult', { accountId: account.id, ok: true, account });
      void tray.update();
    },
    onRefreshFailed: (accountId, error) => {
      router.emit('refreshResult', { accountId, ok: false, error: toAppError(error) });
      void tray.update();
    },
    onExpiryDue: (account, inspection) => {
      const warnAt = inspection.refreshDueAt === null ? null : Date.parse(inspection.refreshDueAt);
      const notice = notices.take(account, warnAt, systemClock.now());
      if (notice) notifier.show(notice);
    },
  });

  // Task lists stay fresh while the window is closed: an incremental sync per account every 15 minutes.
  const taskSync = startBackgroundSync({
    listAccounts: () => core.listAccounts(),
    sync: (accountId) => core.syncTasks(accountId),
  });

  inbox.attach((url) => {
    // The core validates the link and ignores it when no sign-in is waiting; the outcome reaches the page as connectResult.
    void core
      .handleDeepLink(url)
      .then((handled) => {
        if (handled) window.open();
      })
      .catch(() => undefined);
  });

  // The first connected account turns "start at login" on (once; the user's own choice always wins).
  const applyLoginDefault = (count: number): void => {
    void startAtLogin.accountsChanged(count).catch((error: unknown) => {
      console.error(`Tokentray could not set itself to start at login: ${toAppError(error).message}`);
    });
  };
  const offAccounts = core.onAccountsChanged((accounts) => {
    void scheduler?.replan();
    void tray.update();
    applyLoginDefault(accounts.length);
  });
  // The CLI changes accounts from other processes: follow their metadata files (never the keychain).
  // An account connected by `tokentray connect` counts for the start-at-login default too.
  const followAccounts = (): void => {
    void core.listAccounts().then(
      (accounts) => applyLoginDefault(accounts.length),
      () => undefined,
    );
  };
  const stopWatch = watchAccountsDir(join(stateDir, 'accounts'), () => {
    void scheduler?.replan();
    void tray.update();
    followAccounts();
  });
  followAccounts();
  // On a shared store, another machine's refresh arrives by NOTIFY; the tray says when the store is away.
  const stopShared = core.watchSharedStore?.((reachable) => {
    if (reachable) tray.clearNotice(SHARED_STORE_DOWN);
    else tray.showNotice(SHARED_STORE_DOWN, () => undefined);
  });
  powerMonitor.on('resume', () => {
    void scheduler?.onResume();
    void tray.update();
    void taskSync.runNow();
  });
  app.on('activate', () => window.open());

  tray.create();
  const trayTimer = setInterval(() => void tray.update(), TRAY_REFRESH_MS);
  void scheduler.replan();
  // Started at login with --hidden, the app waits in the tray; otherwise the window opens (demo provider included).
  window.open(!startsHidden(process.argv));
  reportE2eReady(tray, window);

  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    closed = true;
    clearInterval(trayTimer);
    scheduler?.stop();
    taskSync.stop();
    stopWatch();
    stopShared?.();
    offAccounts();
    stopIpc();
    router.close();
    tray.destroy();
    void clipboard
      .clearIfOurs()
      .catch(() => undefined)
      .then(() => core.close())
      .finally(() => app.quit());
  });
}

/**
 * TOKENTRAY_E2E=1 with TOKENTRAY_E2E_READY_FILE only: the packaged app's fuses turn off the inspector Playwright
 * would drive, so the launch-and-quit check (test/electron/packaged.test.ts) reads this report instead. Booleans
 * and the window's URL; nothing from the keychain.
 */
function reportE2eReady(tray: TrayService, window: MainWindow): void {
  const file = process.env['TOKENTRAY_E2E_READY_FILE'];
  if (process.env['TOKENTRAY_E2E'] !== '1' || !file) return;
  const write = async (): Promise<void> => {
    let keytar = false;
    try {
      keytar = typeof (await import('keytar')).getPassword === 'function';
    } catch {
      keytar = false;
    }
    const report = {
      isPackaged: app.isPackaged,
      tray: tray.current !== null,
      trayIconEmpty: tray.iconIsEmpty(),
      windowUrl: window.current?.webContents.getURL() ?? null,
      keytar,
    };
    await writeFile(file, JSON.stringify(report));
  };
  const contents = window.current?.webContents;
  if (contents && !contents.isLoading()) void write().catch(() => undefined);
  else window.onContents(() => void write().catch(() => undefined));
}
