import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { startClickupCore } from '../support/clickup-core';
import { runCli } from '../support/cli';
import type { TestCore } from '../support/test-core';

let emu: ClickupEmulatorHandle;
let t: TestCore;

beforeAll(async () => {
  ({ emu, t } = await startClickupCore());
  await t.core.connectWithToken('clickup', emu.issuePersonalToken('alice'), { label: 'work-cu' });
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
});

const cli = (args: string[]) => runCli(args, { home: t.home, service: t.service });

describe('`tokentray tasks` tells what it shows', () => {
  it('calls a list saved seconds ago "from just now"', async () => {
    expect((await cli(['tasks', 'work-cu'])).code).toBe(0);
    const r = await cli(['tasks', 'work-cu', '--offline']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Showing the saved task list from just now.');
    expect(r.stderr).not.toContain('in 0 s');
  });

  it('names a workspace the token may not read, lists the rest, and exits 0', async () => {
    const [kept, lost] = emu.teams as [(typeof emu.teams)[0], (typeof emu.teams)[0]];
    emu.withdrawTeam(lost.id);
    const r = await cli(['tasks', 'work-cu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`Skipped: .*“${lost.name}”.*Team not authorized`));
    const list = JSON.parse(r.stdout) as { tasks: Array<{ workspace: string }>; skipped: Array<{ name: string }> };
    expect(new Set(list.tasks.map((x) => x.workspace))).toEqual(new Set([kept.name]));
    expect(list.skipped.map((x) => x.name)).toEqual([lost.name]);
    const accounts = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{ status: string }>;
    expect(accounts.map((a) => a.status)).toEqual(['ok']);
  });
});
