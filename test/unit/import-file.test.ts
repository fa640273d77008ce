// `import --remove-file` removes only the file it read, and only while it holds what was imported.
import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportFile } from '../../electron/cli/commands/import-file';

let dir: string;
const TOKENS = '{"access_token":"a1","refresh_token":"r1","expires_in":86400}';
const ROTATED = '{"access_token":"a2","refresh_token":"r2","expires_in":86400}'; // same length

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tokentray-importfile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function withFile(path: string, act: (f: ImportFile) => Promise<void>): Promise<void> {
  const f = await ImportFile.open(path, { forRemoval: true });
  try {
    await act(f);
  } finally {
    await f.close();
  }
}

describe('the imported file', () => {
  it('is zeroed and deleted when nothing changed', async () => {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, TOKENS);
    const witness = join(dir, 'witness');
    linkSync(path, witness);
    await withFile(path, async (f) => {
      expect(f.text).toBe(TOKENS);
      expect(await f.remove()).toBeNull();
    });
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(witness).every((b) => b === 0)).toBe(true);
    expect(readdirSync(dir)).toEqual(['witness']);
  });

  it('rewritten in place after the read (even to the same length): kept, new tokens intact', async () => {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, TOKENS);
    await withFile(path, async (f) => {
      writeFileSync(path, ROTATED);
      expect(await f.remove()).toMatch(/changed after it was read/);
    });
    expect(readFileSync(path, 'utf8')).toBe(ROTATED);
  });

  it('replaced by a rename after the read: kept, the new file intact', async () => {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, TOKENS);
    await withFile(path, async (f) => {
      const tmp = join(dir, 'tokens.json.tmp');
      writeFileSync(tmp, TOKENS);
      renameSync(tmp, path);
      expect(await f.remove()).toMatch(/was moved or replaced after it was read, so it was kept/);
    });
    expect(readFileSync(path, 'utf8')).toBe(TOKENS);
  });

  it('a symbolic link is read but never written through', async () => {
    const target = join(dir, 'real.json');
    writeFileSync(target, TOKENS);
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    await withFile(link, async (f) => {
      expect(f.text).toBe(TOKENS);
      expect(await f.remove()).toMatch(/is a symbolic link/);
    });
    expect(readFileSync(target, 'utf8')).toBe(TOKENS);
    expect(existsSync(link)).toBe(true);
  });
});
