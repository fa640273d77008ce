import { describe, expect, it } from 'vitest';
import { safeDetail } from '../../electron/core/errors';

describe('safeDetail: provider text safe to show', () => {
  it('keeps the URL path that names the failed resource', () => {
    expect(safeDetail('/99999991/buckets/1004/todolists/1006/todos.json')).toBe(
      '/99999991/buckets/1004/todolists/1006/todos.json',
    );
    expect(safeDetail('/api/v2/team/90123456789012/task?page=0')).toBe('/api/v2/team/90123456789012/task?page=0');
  });

  it('still redacts tokens, with or without slashes in them', () => {
    const launchpad = 'BAhbB0kiAbB7ImNsaWVudF9pZCI6IjEyM/zQ4ZmQ+Yjk2NjRlZmEx';
    expect(safeDetail(`token ${launchpad} refused`)).toBe('token [redacted] refused');
    expect(safeDetail('/oauth/BAhbB0kiAbB7ImNsaWVudF9pZCI6IjEyMzQ')).toBe('/[redacted]');
    expect(safeDetail('pk_12345_ABCDEFGHIJ')).toBe('[redacted]');
    expect(safeDetail('0123456789abcdef0123456789abcdef0123')).toBe('[redacted]');
  });
});
