import { describe, expect, it } from 'vitest';
import { PageMemos, validatorHeaders, type PageMemo } from '../../electron/core/tasks/page-validators';

const memo = (over: Partial<PageMemo> = {}): PageMemo => ({
  etag: 'W/"abc"',
  lastModified: 'Fri, 04 Dec 2026 10:00:00 GMT',
  next: null,
  tag: 'todos:x',
  data: ['1', '2'],
  ...over,
});

describe('page validators kept as sync cursors', () => {
  it('round-trips through cursors and sends both validators back', () => {
    const first = new PageMemos();
    first.keep('https://b.example/1/todos.json', memo());
    const again = new PageMemos(first.cursors());
    const found = again.previousOf('https://b.example/1/todos.json', 'todos:x');
    expect(found).toEqual(memo());
    expect(validatorHeaders(found)).toEqual({
      'if-none-match': 'W/"abc"',
      'if-modified-since': 'Fri, 04 Dec 2026 10:00:00 GMT',
    });
    expect(validatorHeaders(null)).toEqual({});
  });

  it('reads a page again when it was read in another context or its memo is damaged', () => {
    const memos = new PageMemos({
      'page:https://b.example/a': JSON.stringify(memo()),
      'page:https://b.example/b': '{not json',
      'page:https://b.example/c': JSON.stringify({ etag: 5 }),
      'other:cursor': 'kept elsewhere',
    });
    expect(memos.previousOf('https://b.example/a', 'todos:other project')).toBeNull();
    expect(memos.previousOf('https://b.example/b', 'todos:x')).toBeNull();
    expect(memos.previousOf('https://b.example/c', 'todos:x')).toBeNull();
    expect([...memos.previousMemos()]).toHaveLength(1);
  });

  it('keeps only what this walk saw, plus what a cheaper check carried over', () => {
    const before = new PageMemos({
      'page:https://b.example/1/a': JSON.stringify(memo()),
      'page:https://b.example/1/b': JSON.stringify(memo({ data: ['3'] })),
      'page:https://b.example/2/gone': JSON.stringify(memo()),
    });
    expect(before.carryOver('https://b.example/1/').map((m) => m.data)).toEqual([['1', '2'], ['3']]);
    expect(Object.keys(before.cursors()).sort()).toEqual(['page:https://b.example/1/a', 'page:https://b.example/1/b']);
  });
});
