/**
 * The browser's part of the demo's consent, for tests: load the consent page, submit the chosen
 * form (Allow or Deny, as a demo user), return where it redirects (code and state, or error).
 * Over HTTP like a browser, so it works against a demo server in this process or in another
 * (the Electron app's).
 */
export async function approveDemoConsent(
  authorizeUrl: string,
  opts: { user?: string; deny?: boolean } = {},
): Promise<string> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const early = page.headers.get('location');
  if (early) {
    await page.body?.cancel();
    return new URL(early, authorizeUrl).toString();
  }
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the demo consent page answered HTTP ${page.status}`);
  const request = /<input type="hidden" name="request" value="([^"]*)"/.exec(html)?.[1];
  if (!request) throw new Error('the demo consent page has no consent form');
  const form = new URLSearchParams({ request, decision: opts.deny ? 'deny' : 'allow' });
  if (opts.user) form.set('user', opts.user);
  const res = await fetch(new URL('/authorize/decision', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (!location) throw new Error(`the demo consent decision answered HTTP ${res.status} without a redirect`);
  return location;
}

/**
 * What a provider-side revocation looks like: each token is revoked through the demo's own
 * RFC 7009 endpoint, as the provider's admin page would. The refresh token takes its grant with it.
 */
export async function revokeAtDemo(baseUrl: string, tokens: Array<string | null>): Promise<void> {
  for (const token of tokens) {
    if (token === null) continue;
    const res = await fetch(`${baseUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: 'tokentray-demo' }).toString(),
    });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`the demo's /revoke answered HTTP ${res.status}`);
  }
}
