/** The page the browser shows after the redirect. It never echoes the code, the state or any token. */
export function resultPage(kind: 'success' | 'failure', heading: string, detail: string): string {
  const color = kind === 'success' ? '#1a7f37' : '#b42318';
  const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tokentray</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1f2328}
main{background:#fff;border-radius:12px;padding:32px 40px;box-shadow:0 2px 12px rgba(0,0,0,.08);max-width:440px}
h1{font-size:20px;margin:0 0 8px;color:${color}}
p{margin:0;color:#57606a}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}main{background:#161b22}p{color:#9da7b3}}
</style></head>
<body><main><h1>${escape(heading)}</h1><p>${escape(detail)}</p></main></body></html>`;
}

export const RESULT_PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};
