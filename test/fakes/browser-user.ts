/**
 * A scripted user in a browser: follows redirects with cookies, fills any
 * login form with the given login and submits consent forms, until the
 * provider redirects to `stopAt` (the app's redirect URI). Returns that URL
 * without visiting it, so the test decides how to deliver it.
 */
export async function signInAndConsent(startUrl: string, stopAt: string, login = 'alice'): Promise<string> {
  const cookies = new Map<string, string>();
  let url = startUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop += 1) {
    if (url.startsWith(stopAt)) return url;
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [k, ...v] = (pair ?? '').split('=');
      if (k) cookies.set(k.trim(), v.join('='));
    }
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).toString();
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`the sign-in stopped on a page without a form (HTTP ${res.status})`);
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
      form.set(m[1]!, m[2]!);
    if (html.includes('name="login"')) {
      form.set('login', login);
      form.set('password', 'any');
    }
    url = new URL(action.replace(/&amp;/g, '&'), url).toString();
    method = 'POST';
    body = form.toString();
  }
  throw new Error('the sign-in did not reach the redirect after 20 steps');
}
