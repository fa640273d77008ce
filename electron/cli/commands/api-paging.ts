import type { HttpResponse } from '../../core/http/client';

/**
 * `tokentray api --paginate`: each provider's own paging, recognised from the
 * answer rather than from the provider's name:
 * - an RFC 8288 `Link: <…>; rel="next"` header (Basecamp; bc3-api "Pagination");
 * - HAL `_links.next.href`, ending with a 204 (amoCRM/Kommo API v4, "Pagination");
 * - `last_page: false`, asking for `page` + 1 (ClickUp API v2 "Get Filtered Team Tasks").
 */
export function nextPageUrl(res: HttpResponse, current: string): string | null {
  if (res.status === 204) return null;
  const link = res.headers['link'];
  if (link) {
    for (const part of link.split(',')) {
      const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
      if (m && /rel="?next"?/i.test(m[2]!)) return new URL(m[1]!, current).toString();
    }
  }
  const body = res.body as Record<string, unknown> | null;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const next = (body['_links'] as { next?: { href?: unknown } } | undefined)?.next?.href;
    if (typeof next === 'string') return new URL(next, current).toString();
    if (body['last_page'] === false) {
      const url = new URL(current);
      url.searchParams.set('page', String(Number(url.searchParams.get('page') ?? '0') + 1));
      return url.toString();
    }
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * One document from the pages: arrays are concatenated (a page that is an array,
 * the arrays at the top of an object page, and those under HAL's `_embedded`);
 * everything else keeps the first page's value, without the `next` link.
 */
export function mergePages(pages: unknown[]): unknown {
  const bodies = pages.filter((b) => b !== null && b !== undefined && b !== '');
  if (bodies.length === 0) return null;
  if (bodies.every(Array.isArray)) return (bodies as unknown[][]).flat();
  if (!bodies.every(isPlainObject)) return bodies.length === 1 ? bodies[0] : bodies;
  const merged: Record<string, unknown> = structuredClone(bodies[0] as Record<string, unknown>);
  const concatInto = (target: Record<string, unknown>, page: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(page)) {
      const existing = target[key];
      if (Array.isArray(existing) && Array.isArray(value)) target[key] = [...(existing as unknown[]), ...value];
    }
  };
  for (const page of bodies.slice(1) as Array<Record<string, unknown>>) {
    concatInto(merged, page);
    if (isPlainObject(merged['_embedded']) && isPlainObject(page['_embedded']))
      concatInto(merged['_embedded'], page['_embedded']);
  }
  const links = merged['_links'];
  if (isPlainObject(links)) delete links['next'];
  if ('last_page' in merged) merged['last_page'] = true;
  return merged;
}
