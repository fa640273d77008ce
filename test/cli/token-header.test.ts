import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { connectPersonalAndOauth, startClickupCore } from '../support/clickup-core';
import { CLI, runCli, spawnCaptured, type CliResult } from '../support/cli';
import type { TestCore } from '../support/test-core';

let emu: ClickupEmulatorHandle;
let t: TestCore;
let personal: string;
let oauthToken: string;
/** Loaded before the CLI: says on stderr whether the full CLI was needed, so a test can tell the fast path ran. */
let tracer: string;

beforeAll(async () => {
  ({ emu, t } = await startClickupCore());
  ({ personal, oauthToken } = await connectPersonalAndOauth(emu, t));
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-tracer-'));
  tracer = join(dir, 'trace.cjs');
  writeFileSync(
    tracer,
    `const M = require('node:module'); const load = M._load;
     M._load = function (request, ...rest) { if (String(request).includes('tokentray-main')) process.stderr.write('[full cli]\\n'); return load.call(this, request, ...rest); };`,
  );
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
  rmSync(join(tracer, '..'), { recursive: true, force: true });
});

/** Async on purpose: the emulator answers from this process, so a blocking spawn would deadlock it. */
function run(command: string, args: string[]): Promise<CliResult> {
  return spawnCaptured(command, args, t).done;
}

function tokentray(args: string[]): Promise<CliResult> {
  return run(process.execPath, ['-r', tracer, CLI, ...args]);
}

describe('tokentray token --header', () => {
  it('prints `Authorization: Bearer …` for an OAuth token, from the fast path, whatever the option order', async () => {
    for (const args of [
      ['token', 'work-oauth', '--header'],
      ['token', 'work-oauth', '--header', '--min-valid', '60'],
      ['token', 'work-oauth', '--min-valid=60', '--header'],
    ]) {
      const r = await tokentray(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`Authorization: Bearer ${oauthToken}\n`);
      expect(r.stderr).not.toContain('[full cli]');
    }
  });

  it('sends a ClickUp personal token raw, as ClickUp requires (the full CLI decides the scheme)', async () => {
    const r = await tokentray(['token', 'work-pk', '--header']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Authorization: ${personal}\n`);
    expect((await tokentray(['token', 'work-pk', '--header', '--json'])).stdout).toBe(
      `${JSON.stringify({ header: `Authorization: ${personal}` }, null, 2)}\n`,
    );
  });

  it('feeds `curl -H @-`, so the token never appears on curl’s command line', async () => {
    for (const label of ['work-oauth', 'work-pk']) {
      const r = await run('sh', [
        '-c',
        `"${process.execPath}" "${CLI}" token ${label} --header | curl -s -f -H @- "${emu.url}/api/v2/user"`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ user: { username: expect.any(String) } });
    }
  });

  it('still refuses a malformed --min-valid next to --header with a usage error', async () => {
    const r = await runCli(['token', 'work-oauth', '--header', '--min-valid', 'soon'], {
      home: t.home,
      service: t.service,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
