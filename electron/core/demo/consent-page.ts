import { createHash } from 'node:crypto';
import type { DemoApiTask, DemoUser } from './demo-tasks';

/**
 * The demo server's HTML pages. No script at all: the consent page is two
 * plain HTML forms, so it works under the strictest Content-Security-Policy.
 * The one stylesheet is allowed by its hash rather than 'unsafe-inline'.
 */

const STYLE = `
:root{color-scheme:light dark}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1f2328}
main{background:#fff;border-radius:12px;padding:32px 40px;box-shadow:0 2px 12px rgba(0,0,0,.08);max-width:460px;margin:24px}
.brand{font-size:13px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#6639ba;margin:0 0 12px}
h1{font-size:21px;line-height:1.3;margin:0 0 12px}
p{margin:0 0 12px;color:#57606a}
ul{margin:0 0 16px;padding-left:20px;color:#57606a}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eff1f3;border-radius:4px;padding:1px 5px}
label{display:block;font-size:14px;font-weight:600;margin:0 0 4px}
select{width:100%;font:inherit;padding:6px 8px;border-radius:6px;border:1px solid #d0d7de;background:inherit;color:inherit;margin:0 0 20px}
.actions{display:flex;gap:12px;justify-content:flex-end}
form{margin:0}
button{font:inherit;font-weight:600;padding:8px 20px;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;color:#1f2328;cursor:pointer}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}
button:focus-visible{outline:2px solid #0969da;outline-offset:2px}
.muted{font-size:13px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 16px;margin:0}
dt{color:#57606a}dd{margin:0}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}main{background:#161b22}p,ul,dt{color:#9da7b3}code{background:#262c36}button{background:#21262d;border-color:#3d444d;color:#e6edf3}select{border-color:#3d444d}.brand{color:#b083f0}}
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body><main>
<p class="brand">Tokentray demo</p>
${body}
</main></body></html>`;
}

const SCOPE_TEXT: Record<string, string> = {
  'tasks:read': 'see the tasks in the demo workspace',
  'tasks:write': 'update those tasks',
};

export interface ConsentPageInput {
  /** The signed consent request, echoed back by both forms. */
  request: string;
  scopes: string[];
  users: readonly DemoUser[];
  /** Where the browser goes next, shown so the user can see it is their own computer. */
  returnTo: string;
}

/**
 * "Allow" and "Deny" are separate forms, and the decision of the Allow form is
 * a hidden field: the account picker belongs to the Allow form through its
 * `form` attribute, so the page needs no script to work.
 */
export function consentPage(input: ConsentPageInput): string {
  const request = escapeHtml(input.request);
  const scopes = input.scopes.map((s) => `<li><code>${escapeHtml(s)}</code> ${escapeHtml(SCOPE_TEXT[s] ?? '')}</li>`);
  const options = input.users.map(
    (u, i) =>
      `<option value="${escapeHtml(u.id)}"${i === 0 ? ' selected' : ''}>${escapeHtml(u.name)} (${escapeHtml(u.email)})</option>`,
  );
  return page(
    'Tokentray demo — allow access?',
    `<h1>Tokentray demo — allow access to the demo workspace?</h1>
<p>Tokentray would like to:</p>
<ul>${scopes.join('')}</ul>
<p class="muted">Nothing here is real. This page is served by Tokentray itself on your computer so you can try the whole sign-in without registering an app. After you choose, your browser goes back to <code>${escapeHtml(input.returnTo)}</code>.</p>
<label for="user">Sign in as</label>
<select id="user" name="user" form="allow">${options.join('')}</select>
<div class="actions">
<form method="post" action="/authorize/decision">
<input type="hidden" name="request" value="${request}">
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<form id="allow" method="post" action="/authorize/decision">
<input type="hidden" name="request" value="${request}">
<input type="hidden" name="decision" value="allow">
<button type="submit" class="primary" autofocus>Allow</button>
</form>
</div>`,
  );
}

export function errorPage(heading: string, detail: string): string {
  return page(`Tokentray demo — ${heading}`, `<h1>${escapeHtml(heading)}</h1><p>${escapeHtml(detail)}</p>`);
}

export function landingPage(): string {
  return page(
    'Tokentray demo server',
    `<h1>Tokentray demo server</h1>
<p>This small OAuth 2.0 server runs inside Tokentray on 127.0.0.1 so you can try connecting an account without registering an app anywhere. Its tokens open nothing but the generated demo tasks.</p>
<p class="muted">Connect it from Tokentray, or run <code>tokentray connect demo</code>.</p>`,
  );
}

const PRIORITY_TEXT: Record<string, string> = {
  none: 'None',
  low: 'Low',
  normal: 'Normal',
  high: 'High',
  urgent: 'Urgent',
};

export function taskPage(task: DemoApiTask): string {
  const due = task.due ? (task.due.datetime ?? task.due.date) : 'No due date';
  const rows: Array<[string, string]> = [
    ['Status', task.status === 'done' ? 'Done' : 'Open'],
    ['Due', due],
    ['Priority', PRIORITY_TEXT[task.priority] ?? task.priority],
    ['Project', task.project.name],
    ['Assignees', task.assignees.map((a) => a.name).join(', ') || 'Nobody'],
  ];
  return page(
    `${task.id} · ${task.title}`,
    `<h1>${escapeHtml(task.title)}</h1>
<p class="muted">${escapeHtml(task.id)} · a generated demo task</p>
<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
  );
}
