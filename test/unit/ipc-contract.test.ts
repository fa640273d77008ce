import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createTokentrayApi,
  IPC_CHANNELS,
  IPC_EVENTS,
  ipcChannelName,
  ipcContract,
  ipcEventName,
  ipcEvents,
  type IpcChannel,
} from '../../electron/shared/ipc-contract';

const SECRET_FIELD = /token|secret|password|code_?verifier|^code$/i;

/** Every property reachable in a schema (objects, arrays, unions, records, optionals), with its schema. */
function fields(schema: z.ZodType, seen = new Set<z.ZodType>()): Array<[string, z.ZodType]> {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const out: Array<[string, z.ZodType]> = [];
  if (def['type'] === 'object') {
    for (const [key, value] of Object.entries(def['shape'] as Record<string, z.ZodType>)) {
      out.push([key, value], ...fields(value, seen));
    }
  }
  for (const key of ['element', 'innerType', 'valueType', 'in', 'out']) {
    const inner = def[key] as z.ZodType | undefined;
    if (inner && typeof inner === 'object' && '_zod' in inner) out.push(...fields(inner, seen));
  }
  for (const option of (def['options'] as z.ZodType[] | undefined) ?? []) out.push(...fields(option, seen));
  return out;
}

/** A field named like a secret that would accept a token-shaped string (error-code enums and flags do not). */
function secretShaped(schemas: Array<[string, z.ZodType]>): string[] {
  const tokenLike = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  return schemas
    .filter(([name]) => SECRET_FIELD.test(name) && name !== 'personalTokenHint')
    .filter(([, schema]) => schema.safeParse(tokenLike).success)
    .map(([name]) => name);
}

describe('the IPC contract', () => {
  it('names every channel the renderer needs, each with a request and a response schema', () => {
    expect(IPC_CHANNELS.sort()).toEqual(
      [
        'addGenericProvider',
        'cancelConnect',
        'completeConnectWithCode',
        'completeConnectWithUrl',
        'connectWithToken',
        'copyToken',
        'disconnect',
        'getPreferences',
        'getStartAtLogin',
        'getStorageStatus',
        'inspect',
        'listAccounts',
        'listProviders',
        'openExternal',
        'refresh',
        'removeDemo',
        'setPreferences',
        'setProvider',
        'setStartAtLogin',
        'startConnect',
        'taskViewClose',
        'taskViewOpen',
        'taskViewWindow',
        'tasks',
      ].sort(),
    );
    for (const channel of IPC_CHANNELS) {
      expect(ipcContract[channel].request).toBeInstanceOf(z.ZodType);
      expect(ipcContract[channel].response).toBeInstanceOf(z.ZodType);
    }
    expect(IPC_EVENTS.sort()).toEqual([
      'accountsChanged',
      'connectProgress',
      'connectResult',
      'navigate',
      'refreshResult',
      'storageChanged',
    ]);
  });

  it('has no response or event field that could carry a token or a secret', () => {
    const offenders: string[] = [];
    for (const channel of IPC_CHANNELS) {
      for (const name of secretShaped(fields(ipcContract[channel].response))) offenders.push(`${channel}.${name}`);
    }
    for (const event of IPC_EVENTS) {
      for (const name of secretShaped(fields(ipcEvents[event]))) offenders.push(`${event}.${name}`);
    }
    expect(offenders).toEqual([]);
    // The check itself bites: the request side does carry secret-shaped fields.
    expect(secretShaped(fields(ipcContract.connectWithToken.request))).toEqual(['token']);
    expect(secretShaped(fields(ipcContract.setProvider.request))).toContain('clientSecret');
  });

  it('accepts a client secret and a personal token going in, and rejects unknown fields', () => {
    expect(
      ipcContract.setProvider.request.safeParse({ provider: 'clickup', clientId: 'abc', clientSecret: 's3cret' })
        .success,
    ).toBe(true);
    expect(ipcContract.connectWithToken.request.safeParse({ provider: 'clickup', token: 'pk_123' }).success).toBe(true);
    expect(ipcContract.refresh.request.safeParse({ accountId: 'a', extra: 1 }).success).toBe(false);
    expect(ipcContract.listAccounts.request.safeParse(undefined).success).toBe(true);
    expect(ipcContract.listAccounts.request.safeParse({ sneaky: true }).success).toBe(false);
    expect(ipcContract.setPreferences.request.safeParse({ language: 'fr' }).success).toBe(false);
    expect(ipcContract.copyToken.response.safeParse({ copied: true, clearsInSeconds: 60 }).success).toBe(true);
  });

  it('builds one method per channel plus `on`, and nothing else (no raw ipcRenderer)', async () => {
    const calls: Array<[IpcChannel, unknown]> = [];
    const api = createTokentrayApi({
      invoke: async (channel, request) => {
        calls.push([channel, request]);
        return { ok: true, data: channel };
      },
      subscribe: () => () => undefined,
    });
    expect(Object.keys(api).sort()).toEqual([...IPC_CHANNELS, 'on'].sort());
    expect(Object.isFrozen(api)).toBe(true);
    expect(await api.refresh({ accountId: 'x' })).toEqual({ ok: true, data: 'refresh' });
    expect(calls).toEqual([['refresh', { accountId: 'x' }]]);
    expect(() => api.on('nope' as never, () => undefined)).toThrow(/Unknown Tokentray event/);
  });

  it('turns a broken transport or a malformed answer into an IPC_INVALID result', async () => {
    const broken = createTokentrayApi({
      invoke: async () => {
        throw new Error('socket closed');
      },
      subscribe: () => () => undefined,
    });
    expect(await broken.listAccounts()).toMatchObject({ ok: false, error: { code: 'IPC_INVALID' } });
    const garbled = createTokentrayApi({ invoke: async () => 'nonsense', subscribe: () => () => undefined });
    expect(await garbled.listAccounts()).toMatchObject({ ok: false, error: { code: 'IPC_INVALID' } });
  });

  it('maps channels and events to stable Electron channel names', () => {
    expect(ipcChannelName('refresh')).toBe('tokentray:refresh');
    expect(ipcEventName('accountsChanged')).toBe('tokentray:event:accountsChanged');
    expect(new Set(IPC_CHANNELS.map(ipcChannelName)).size).toBe(IPC_CHANNELS.length);
  });
});

describe('the paged tasks view verbs', () => {
  const query = { query: 'report', status: 'open', today: '2025-03-10', seq: 3 };

  it('accept a window request and refuse one that would carry the list or a bad range', () => {
    const win = ipcContract.taskViewWindow.request;
    expect(win.safeParse({ viewId: 'v1', ...query, offset: 120, count: 50 }).success).toBe(true);
    // More than a few screens per answer: the list must not cross IPC in one message.
    expect(win.safeParse({ viewId: 'v1', ...query, offset: 0, count: 501 }).success).toBe(false);
    expect(win.safeParse({ viewId: 'v1', ...query, offset: -1, count: 50 }).success).toBe(false);
    expect(win.safeParse({ viewId: 'v1', ...query, offset: 0.5, count: 50 }).success).toBe(false);
    expect(win.safeParse({ viewId: 'v1', ...query, status: 'later', offset: 0, count: 50 }).success).toBe(false);
    expect(win.safeParse({ viewId: 'v1', ...query, today: '10.03.2025', offset: 0, count: 50 }).success).toBe(false);
    const { seq: _seq, ...withoutSeq } = query;
    expect(win.safeParse({ viewId: 'v1', ...withoutSeq, offset: 0, count: 50 }).success).toBe(false);
    expect(win.safeParse({ viewId: 'v1', ...query, offset: 0, count: 50, extra: 1 }).success).toBe(false);
    expect(win.safeParse({ viewId: '', ...query, offset: 0, count: 50 }).success).toBe(false);
  });

  it('open a view over accounts, with the first window and no more', () => {
    const open = ipcContract.taskViewOpen.request;
    expect(open.safeParse({ accountIds: ['a', 'b'], offline: true, ...query, count: 60 }).success).toBe(true);
    expect(open.safeParse({ accountIds: [''], ...query, count: 60 }).success).toBe(false);
    expect(open.safeParse({ accountIds: ['a'], ...query, count: 10_000 }).success).toBe(false);
    expect(open.safeParse({ accountIds: ['a'], ...query, count: 60, offset: 0 }).success).toBe(false);
    expect(ipcContract.taskViewClose.request.safeParse({ viewId: 'v1' }).success).toBe(true);
    expect(ipcContract.taskViewClose.request.safeParse({}).success).toBe(false);
  });

  it('answer either rows with totals or a bare stale marker', () => {
    const res = ipcContract.taskViewWindow.response;
    expect(res.safeParse({ stale: true, viewId: 'v1', seq: 2 }).success).toBe(true);
    const parsed = res.safeParse({
      stale: false,
      viewId: 'v1',
      seq: 3,
      total: 2,
      matched: 1,
      unfiltered: 10,
      groups: [{ group: 'today', count: 1, start: 0 }],
      offset: 0,
      rows: [{ kind: 'header', group: 'today', count: 1, accessToken: 'planted' }],
    });
    expect(parsed.success).toBe(true);
    // A field the contract does not name is stripped on the way out.
    expect(JSON.stringify(parsed.data)).not.toContain('planted');
    expect(res.safeParse({ stale: false, viewId: 'v1', seq: 3 }).success).toBe(false);
  });
});
