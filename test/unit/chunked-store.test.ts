import { describe, expect, it } from 'vitest';
import { ChunkedSecretStore, WINDOWS_SECRET_LIMIT_BYTES } from '../../electron/core/vault/chunked-store';
import { MemorySecretStore } from '../fakes/memory-store';

function capped(): { inner: MemorySecretStore; store: ChunkedSecretStore } {
  const inner = new MemorySecretStore();
  inner.maxBytes = WINDOWS_SECRET_LIMIT_BYTES;
  return { inner, store: new ChunkedSecretStore(inner, WINDOWS_SECRET_LIMIT_BYTES) };
}

describe('secrets larger than the Windows Credential Manager limit', () => {
  it('round-trips a 16 KB token through a store that refuses items over 2,560 bytes', async () => {
    const { inner, store } = capped();
    const token = 'eyJ' + 'x'.repeat(16 * 1024);
    await store.set('account:a', JSON.stringify({ token }));
    expect(JSON.parse((await store.get('account:a'))!).token).toBe(token);
    for (const value of inner.items.values())
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(WINDOWS_SECRET_LIMIT_BYTES);
    expect(inner.items.size).toBeGreaterThan(6);
  });

  it('keeps small values in one item and multi-byte text intact', async () => {
    const { inner, store } = capped();
    await store.set('k', 'small');
    expect(inner.items.get('k')).toBe('small');
    const text = 'ключ-🔑'.repeat(1000);
    await store.set('k', text);
    expect(await store.get('k')).toBe(text);
  });

  it('removes the old chunks when a value shrinks and on delete', async () => {
    const { inner, store } = capped();
    await store.set('k', 'a'.repeat(10_000));
    await store.set('k', 'b'.repeat(9_000));
    expect(await store.get('k')).toBe('b'.repeat(9_000));
    expect(inner.items.size).toBe(1 + Math.ceil(9_000 / WINDOWS_SECRET_LIMIT_BYTES));
    await store.set('k', 'tiny');
    expect([...inner.items.keys()]).toEqual(['k']);
    await store.delete('k');
    expect(inner.items.size).toBe(0);
    expect(await store.get('k')).toBeNull();
  });

  it('leaves the previous value readable when a write fails half-way', async () => {
    const { inner, store } = capped();
    await store.set('k', 'a'.repeat(6_000));
    inner.failWritesAfter = inner.writes + 2;
    await expect(store.set('k', 'b'.repeat(12_000))).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    inner.failWritesAfter = null;
    expect(await store.get('k')).toBe('a'.repeat(6_000));
  });

  it('reports a chunk deleted behind its back as a coded error, not garbage', async () => {
    const { inner, store } = capped();
    await store.set('k', 'a'.repeat(6_000));
    const chunkKey = [...inner.items.keys()].find((key) => key.includes('#'))!;
    inner.items.delete(chunkKey);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'KEYCHAIN_ITEM_MISSING' });
    expect(await store.keys()).toEqual(['k']);
  });
});
