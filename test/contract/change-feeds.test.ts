/**
 * The emulators answer each provider's documented change mechanism (issue 22), the ground the
 * incremental sync and its property test stand on: what changed comes back, what did not is not
 * sent again, and an unchanged resource costs an answer without a body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { startBasecampEmulator, type BasecampEmulatorHandle } from '../fakes/basecamp-emulator';
import { startClickupEmulator, type ClickupEmulatorHandle } from '../fakes/clickup-emulator';

const UA = { 'user-agent': 'Tokentray tests (tests@example.com)' };

describe('ClickUp: Get Filtered Team Tasks with date_updated_gt', () => {
  let emu: ClickupEmulatorHandle;
  let token: string;
  const tasks = async (query: string): Promise<Array<Record<string, unknown>>> => {
    const res = await fetch(`${emu.url}/api/v2/team/${emu.teams[0]!.id}/task?${query}`, {
      headers: { authorization: token },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { tasks: Array<Record<string, unknown>> }).tasks;
  };
  beforeAll(async () => {
    emu = await startClickupEmulator({ redirectUri: 'http://127.0.0.1:1/cb', taskCount: 40 });
    token = emu.issuePersonalToken('alice');
  });
  afterAll(() => emu.close());

  it('sends only tasks changed after the cursor, a completed one only with include_closed', async () => {
    const before = await tasks('page=0&include_closed=true&subtasks=true');
    const cursor = Math.max(...before.map((t) => Number(t.date_updated)));
    expect(await tasks(`include_closed=true&subtasks=true&date_updated_gt=${cursor}`)).toEqual([]);

    const open = before.find((t) => (t.status as { type: string }).type === 'open' && t.parent === null)!;
    emu.mutate.complete(String(open.id));
    const created = emu.mutate.create(emu.mutate.containers()[0]!, { title: 'Fresh', due: '2026-03-02' });
    const changed = await tasks(`include_closed=true&subtasks=true&date_updated_gt=${cursor}`);
    expect(changed.map((t) => t.id).sort()).toEqual([String(open.id), created].sort());
    expect(changed.find((t) => t.id === open.id)?.status).toMatchObject({ type: 'closed' });
    // Without include_closed the completion is not in the feed at all.
    expect((await tasks(`subtasks=true&date_updated_gt=${cursor}`)).map((t) => t.id)).toEqual([created]);
    expect(emu.endpoints.get('GET /team/:id/task')).toBe(4);
  });

  it('names no deleted task: the feed is silent, only a full walk misses it', async () => {
    const all = await tasks('page=0&include_closed=true&subtasks=true');
    const cursor = Math.max(...all.map((t) => Number(t.date_updated)));
    const gone = String(all[0]!.id);
    emu.mutate.delete(gone);
    expect(await tasks(`include_closed=true&subtasks=true&date_updated_gt=${cursor}`)).toEqual([]);
    expect((await tasks('page=0&include_closed=true&subtasks=true')).map((t) => t.id)).not.toContain(gone);
  });
});

describe('amoCRM: filter[updated_at][from] and If-Modified-Since', () => {
  let emu: EmulatorHandle;
  let token: string;
  const list = (query: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${emu.url}/api/v4/tasks?limit=250${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  beforeAll(async () => {
    emu = await startAmocrmEmulator({ redirectUri: 'http://127.0.0.1:1/cb', taskCount: 300, requestsPerSecond: 1000 });
    token = emu.issueLongLivedToken({ user: 'alice', ttlSeconds: 3600 });
  });
  afterAll(() => emu.close());

  it('answers 304 when nothing changed since, and the changed tasks when something did', async () => {
    const since = Math.floor(Date.now() / 1000) + 1;
    const ims = { 'if-modified-since': new Date(since * 1000).toUTCString() };
    expect((await list(`&filter[updated_at][from]=${since}`, ims)).status).toBe(304);
    // Without the header an empty list is 204, as every amoCRM list answers.
    expect((await list(`&filter[updated_at][from]=${since}`)).status).toBe(204);

    await new Promise((resolve) => setTimeout(resolve, 2100));
    const ids = emu.mutate.taskIds();
    emu.mutate.complete(ids[1]!);
    emu.mutate.move(ids[2]!, emu.mutate.destinations(ids[2]!)[0]!);
    const res = await list(`&filter[updated_at][from]=${since}`, ims);
    expect(res.status).toBe(200);
    const tasks = ((await res.json()) as { _embedded: { tasks: Array<Record<string, unknown>> } })._embedded.tasks;
    expect(tasks.map((t) => String(t.id))).toEqual([ids[1], ids[2]]);
    expect(tasks[0]).toMatchObject({ is_completed: true });
    expect(Number(tasks[0]!.updated_at)).toBeGreaterThanOrEqual(since);
    expect(emu.endpoints.get('304')).toBe(1);
  });

  it('lists what a full walk reads after changes: created tasks come, deleted ones are gone', async () => {
    const ids = emu.mutate.taskIds();
    emu.mutate.delete(ids[0]!);
    const created = emu.mutate.create(emu.mutate.containers()[1]!, { title: 'Call Vera', due: null });
    const seen: string[] = [];
    for (let page = 1; page < 10; page += 1) {
      const res = await list(`&page=${page}`);
      if (res.status === 204) break;
      const body = (await res.json()) as { _embedded: { tasks: Array<{ id: number }> } };
      seen.push(...body._embedded.tasks.map((t) => String(t.id)));
    }
    expect(seen).toEqual(emu.mutate.taskIds());
    expect(seen).toContain(created);
    expect(seen).not.toContain(ids[0]);
  });
});

describe('Basecamp: ETag / Last-Modified and 304 Not Modified', () => {
  let emu: BasecampEmulatorHandle;
  let token: string;
  let todosUrl: string;
  const get = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url, { headers: { ...UA, authorization: `Bearer ${token}`, ...headers } });
  beforeAll(async () => {
    emu = await startBasecampEmulator({ rateLimit: { limit: 100_000, windowMs: 10_000 }, pageSize: 5 });
    const code = emu.issueAuthorizationCode({ user: 'jason' });
    const res = await fetch(`${emu.url}/authorization/token`, {
      method: 'POST',
      headers: { ...UA, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: emu.clientId,
        client_secret: emu.clientSecret,
        redirect_uri: emu.redirectUri,
      }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
    const account = emu.accountsOf('jason')[0]!.id;
    const projects = (await (await get(`${emu.url}/${account}/projects.json`)).json()) as Array<{
      dock: Array<{ name: string; url?: string }>;
    }>;
    const todoset = (await (await get(projects[0]!.dock.find((d) => d.name === 'todoset')!.url!)).json()) as {
      todolists_url: string;
    };
    const lists = (await (await get(todoset.todolists_url)).json()) as Array<{ todos_url: string }>;
    todosUrl = lists[1]!.todos_url;
  });
  afterAll(() => emu.close());

  it('answers an unchanged page 304 with no body, to If-None-Match and to If-Modified-Since', async () => {
    const first = await get(todosUrl);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^W\/".+"$/);
    expect(Number.isNaN(Date.parse(lastModified))).toBe(false);
    await first.arrayBuffer();
    const byTag = await get(todosUrl, { 'if-none-match': etag });
    expect(byTag.status).toBe(304);
    expect(await byTag.text()).toBe('');
    expect((await get(todosUrl, { 'if-modified-since': lastModified })).status).toBe(304);
  });

  it('gives a changed list a new ETag and Last-Modified, and every page its own', async () => {
    const first = await get(todosUrl);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const todos = (await first.json()) as Array<{ id: number }>;
    const second = await get(`${todosUrl}?page=2`);
    expect(second.headers.get('etag')).not.toBe(etag);
    const etag2 = second.headers.get('etag')!;
    await second.arrayBuffer();
    const completedPage = await get(`${todosUrl}?completed=true`);
    const completedTag = completedPage.headers.get('etag')!;
    await completedPage.arrayBuffer();

    emu.mutate.complete(String(todos[0]!.id));
    const changed = await get(todosUrl, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Date.parse(changed.headers.get('last-modified')!)).toBeGreaterThan(Date.parse(lastModified));
    expect(((await changed.json()) as Array<{ id: number }>).map((t) => t.id)).not.toContain(todos[0]!.id);
    // The completed pages changed too; page 2 of the open list shifted up by one.
    expect((await get(`${todosUrl}?completed=true`, { 'if-none-match': completedTag })).status).toBe(200);
    expect((await get(`${todosUrl}?page=2`, { 'if-none-match': etag2 })).status).toBe(200);
    expect(emu.stats.notModified).toBeGreaterThanOrEqual(2);
  });
});
