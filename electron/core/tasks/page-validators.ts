/**
 * HTTP validators per page, kept as sync cursors (issue 22), for providers whose change mechanism
 * is the conditional request (Basecamp: bc3-api README, "Using HTTP caching"): each page's URL maps
 * to the `ETag` and `Last-Modified` it was answered with, the page that followed it (its Link
 * rel="next", so a 304 still leads on), a tag saying in what context it was read (a page read for
 * another project name must be read again), and the little the provider needs to go on without the
 * body: the to-do ids of a task page, the next URLs of a list index.
 *
 * The engine (task-sync.ts) owns storage: these live in the base's cursors, written atomically with
 * the tasks, so a crash never pairs validators with tasks they do not describe. A page's memo is
 * dropped when a walk or sync does not see the page again, which bounds them by the account's pages.
 */
import { z } from 'zod';

const PREFIX = 'page:';

export interface PageMemo {
  etag: string | null;
  lastModified: string | null;
  next: string | null;
  tag: string;
  data: unknown;
}

const memoSchema = z.object({
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  next: z.string().nullable(),
  tag: z.string(),
  data: z.unknown(),
});

export class PageMemos {
  private readonly previous = new Map<string, PageMemo>();
  private readonly kept = new Map<string, PageMemo>();

  /** Reads the memos out of a base's cursors; a malformed one is as if never seen (its page is read whole). */
  constructor(cursors: Readonly<Record<string, string>> = {}) {
    for (const [key, value] of Object.entries(cursors)) {
      if (!key.startsWith(PREFIX)) continue;
      try {
        const parsed = memoSchema.safeParse(JSON.parse(value));
        if (parsed.success) this.previous.set(key.slice(PREFIX.length), { ...parsed.data, data: parsed.data.data });
      } catch {
        // Not JSON: the page is read again without validators.
      }
    }
  }

  /** The memo of the last walk or sync for this URL, if it was read in the same context. */
  previousOf(url: string, tag: string): PageMemo | null {
    const memo = this.previous.get(url);
    return memo !== undefined && memo.tag === tag ? memo : null;
  }

  /** Every memo the last walk or sync left (a sync learns from them which to-dos may be gone). */
  previousMemos(): IterableIterator<PageMemo> {
    return this.previous.values();
  }

  /**
   * Keeps, unread, every memo of the last walk or sync whose URL starts with `prefix` (a resource a
   * cheaper check showed unchanged) and returns them.
   */
  carryOver(prefix: string): PageMemo[] {
    const carried: PageMemo[] = [];
    for (const [url, memo] of this.previous) {
      if (!url.startsWith(prefix)) continue;
      this.kept.set(url, memo);
      carried.push(memo);
    }
    return carried;
  }

  keep(url: string, memo: PageMemo): void {
    this.kept.set(url, memo);
  }

  /** The memos kept this time, as cursors (`page:<url>` → JSON). */
  cursors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [url, memo] of this.kept) out[`${PREFIX}${url}`] = JSON.stringify(memo);
    return out;
  }
}

/** The conditional request for a page read before (RFC 9110 §13.1.2 and §13.1.3). */
export function validatorHeaders(memo: PageMemo | null): Record<string, string> {
  if (memo === null) return {};
  const headers: Record<string, string> = {};
  if (memo.etag !== null) headers['if-none-match'] = memo.etag;
  if (memo.lastModified !== null) headers['if-modified-since'] = memo.lastModified;
  return headers;
}
