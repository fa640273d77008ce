import { mkdirSync, watch, promises as fs, type FSWatcher } from 'node:fs';

export interface StateWatchOptions {
  /** Changes arrive in bursts (temp file, rename, the folder's fsync): one call per burst. */
  debounceMs?: number;
  /** Where fs.watch is unavailable (some network shares): how often the folder listing is compared. */
  pollMs?: number;
  /** fs.watch, replaceable so tests can play a file system that cannot be watched. */
  watch?: typeof watch;
}

/**
 * Calls `onChange` when any account's metadata file changes, whoever wrote it (this
 * process, the CLI, another window). Listing then reads metadata only, so the tray
 * follows the CLI without reading a secret or polling the keychain.
 */
export function watchAccountsDir(dir: string, onChange: () => void, options: StateWatchOptions = {}): () => void {
  const debounceMs = options.debounceMs ?? 250;
  const pollMs = options.pollMs ?? 30_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const fire = (): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (!stopped) onChange();
    }, debounceMs);
  };

  let watcher: FSWatcher | null = null;
  let poller: NodeJS.Timeout | null = null;
  let lastSeen = '';
  const snapshot = async (): Promise<string> => {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const stats = await Promise.all(
      names.map((n) =>
        fs
          .stat(`${dir}/${n}`)
          .then((s) => `${n}:${s.mtimeMs}:${s.size}`)
          .catch(() => n),
      ),
    );
    return stats.sort().join('|');
  };
  const startPolling = (): void => {
    if (poller || stopped) return;
    void snapshot().then((s) => (lastSeen = s));
    poller = setInterval(() => {
      void snapshot().then((s) => {
        if (s !== lastSeen) {
          lastSeen = s;
          fire();
        }
      });
    }, pollMs);
    poller.unref?.();
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    watcher = (options.watch ?? watch)(dir, { persistent: false }, fire);
    watcher.on('error', () => {
      watcher?.close();
      watcher = null;
      startPolling();
    });
  } catch {
    // The folder may not exist yet (no account connected) or the platform cannot watch it.
    startPolling();
  }
  return () => {
    stopped = true;
    watcher?.close();
    if (poller) clearInterval(poller);
    if (timer) clearTimeout(timer);
  };
}
