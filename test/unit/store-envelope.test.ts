import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { open, rowIdFor, seal } from '../../electron/core/store/envelope';
import { loadOrCreateKeyFile, readKeyFile, resolveTeamKey } from '../../electron/core/store/team-key';
import { MemorySecretStore } from '../fakes/memory-store';

const dir = mkdtempSync(join(tmpdir(), 'tokentray-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the shared store envelope (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const secret = '{"tokens":{"accessToken":"at-planted-123","refreshToken":"rt-planted-456"}}';

  it('round-trips, with a fresh nonce per write and no plaintext in the ciphertext', () => {
    const one = seal(key, secret, 'tokentray:row:v1');
    const two = seal(key, secret, 'tokentray:row:v1');
    expect(one.nonce.equals(two.nonce)).toBe(false);
    expect(one.box.equals(two.box)).toBe(false);
    expect(one.box.toString('latin1')).not.toContain('planted');
    expect(open(key, one, 'tokentray:row:v1')).toBe(secret);
  });

  it('refuses another key, another row or another version with a clear "team key" error', () => {
    const sealed = seal(key, secret, 'tokentray:row:v2');
    expect(() => open(randomBytes(32), sealed, 'tokentray:row:v2')).toThrow(/team key does not open the shared store/);
    expect(() => open(key, sealed, 'tokentray:other-row:v2')).toThrow(/team key/);
    expect(() => open(key, sealed, 'tokentray:row:v1')).toThrow(/team key/);
    const flipped = Buffer.from(sealed.box);
    flipped[0] = flipped[0]! ^ 1;
    expect(() => open(key, { nonce: sealed.nonce, box: flipped }, 'tokentray:row:v2')).toThrow(/team key/);
  });

  it('row ids hide the account id and differ per team key', () => {
    const id = rowIdFor(key, 'account:amocrm-alice');
    expect(id).not.toContain('amocrm');
    expect(id).toBe(rowIdFor(key, 'account:amocrm-alice'));
    expect(id).not.toBe(rowIdFor(randomBytes(32), 'account:amocrm-alice'));
  });
});

describe('the team key file', () => {
  it('--key-file creates a 0600 key when missing and reads the same key back', async () => {
    const path = join(dir, 'sub', 'team.key');
    const made = await loadOrCreateKeyFile(path);
    expect(made.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateKeyFile(path);
    expect(again.created).toBe(false);
    expect(again.key.equals(made.key)).toBe(true);
  });

  it('refuses a key file other users can read, and a file that is not a key, saying what to do', async () => {
    const open644 = join(dir, 'open.key');
    writeFileSync(open644, `${randomBytes(32).toString('base64')}\n`);
    chmodSync(open644, 0o644);
    await expect(readKeyFile(open644)).rejects.toThrow(/can be read by other users.*chmod 600/);
    const junk = join(dir, 'junk.key');
    writeFileSync(junk, 'not a key', { mode: 0o600 });
    await expect(readKeyFile(junk)).rejects.toThrow(/does not hold a Tokentray team key/);
  });

  it('TOKENTRAY_STORE_KEY_FILE wins over the keychain (servers, systemd LoadCredential)', async () => {
    const path = join(dir, 'env.key');
    const { key } = await loadOrCreateKeyFile(path);
    const keychain = new MemorySecretStore();
    await keychain.set('store-team-key', randomBytes(32).toString('base64'));
    process.env['TOKENTRAY_STORE_KEY_FILE'] = path;
    try {
      expect((await resolveTeamKey(null, keychain)).equals(key)).toBe(true);
    } finally {
      delete process.env['TOKENTRAY_STORE_KEY_FILE'];
    }
    await expect(resolveTeamKey(null, new MemorySecretStore())).rejects.toThrow(/TOKENTRAY_STORE_KEY_FILE/);
  });
});
