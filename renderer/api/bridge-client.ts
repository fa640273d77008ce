// The development bridge's side of the IPC contract: the same API object the
// Electron preload exposes, carried over a WebSocket to electron/dev/bridge-server.ts.
import {
  createTokentrayApi,
  type IpcChannel,
  type IpcEvent,
  type TokentrayApi,
} from '../../electron/shared/ipc-contract';

const RECONNECT_DELAY_MS = 1000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export function connectBridge(socketUrl: string): TokentrayApi {
  const pending = new Map<number, Pending>();
  const listeners = new Map<IpcEvent, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket;
  let opened: Promise<void>;

  const open = (): void => {
    socket = new WebSocket(socketUrl);
    opened = new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('close', () => reject(new Error('bridge closed')), { once: true });
    });
    opened.catch(() => undefined);
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      let data: { type?: unknown; id?: unknown; result?: unknown; event?: unknown; payload?: unknown };
      const started = performance.now();
      try {
        data = JSON.parse(message.data) as typeof data;
      } catch {
        return;
      }
      // Visible in devtools' timeline and read by the renderer benchmark.
      if (message.data.length > 100_000) performance.measure('tokentray:ipc-parse', { start: started });
      if (data.type === 'result' && typeof data.id === 'number') {
        pending.get(data.id)?.resolve(data.result);
        pending.delete(data.id);
      } else if (data.type === 'event' && typeof data.event === 'string') {
        for (const listener of listeners.get(data.event as IpcEvent) ?? []) listener(data.payload);
      }
    });
    socket.addEventListener('close', () => {
      for (const p of pending.values()) p.reject(new Error('bridge closed'));
      pending.clear();
      // The bridge may be restarting (npm run dev:web again); keep trying quietly.
      setTimeout(open, RECONNECT_DELAY_MS);
    });
  };
  open();

  const api = createTokentrayApi({
    invoke: async (channel: IpcChannel, request: unknown) => {
      await opened;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, channel, payload: request }));
      });
    },
    subscribe: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => {
        set.delete(listener);
      };
    },
  });

  return Object.freeze({
    ...api,
    // Here the page already is the user's browser: after the bridge allows the URL, open it in a new tab.
    openExternal: async (request: { url: string }) => {
      const result = await api.openExternal(request);
      if (result.ok && !result.data.opened) {
        window.open(request.url, '_blank', 'noopener,noreferrer');
        return { ok: true as const, data: { opened: true } };
      }
      return result;
    },
  });
}
