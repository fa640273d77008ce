import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { startClickupCore } from '../support/clickup-core';
import { runCli } from '../support/cli';
import type { TestCore } from '../support/test-core';

const RED = '\u001b[31m';
const OSC52 = '\u001b]52;c;cm0gLXJmIH4=\u0007';
const LABEL = `${RED}pwned${OSC52}\u009b2J`;

let emu: ClickupEmulatorHandle;
let t: TestCore;

beforeAll(async () => {
  ({ emu, t } = await startClickupCore());
  await t.core.connectWithToken('clickup', emu.issuePersonalToken('alice'), { label: LABEL });
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
});

const cli = (args: string[]) => runCli(args, { home: t.home, service: t.service });
const ESCAPES = /[\u001b\u0007\u009b]/;

describe('labels and provider text reach the terminal defused', () => {
  it('`tokentray accounts` shows a label with ESC[31m and OSC 52 as visible text, not as escapes', async () => {
    const r = await cli(['accounts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(ESCAPES);
    expect(r.stdout).toContain('\\x1b[31mpwned\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b2J');
    expect(r.stderr).not.toMatch(ESCAPES);
  });

  it('`--json` keeps the label exact', async () => {
    const r = await cli(['accounts', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ label: string }>)[0]!.label).toBe(LABEL);
  });

  it('error sentences that repeat what they were given are defused too', async () => {
    const r = await cli(['inspect', `nobody${OSC52}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No account is called/);
    expect(r.stderr).not.toMatch(ESCAPES);
    const tasks = await cli(['tasks', LABEL]);
    expect(tasks.code, tasks.stderr).toBe(0);
    expect(tasks.stdout + tasks.stderr).not.toMatch(ESCAPES);
  });
});
