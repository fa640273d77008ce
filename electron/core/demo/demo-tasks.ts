/**
 * The demo workspace's data: two users and a generated task list.
 *
 * Tasks are computed from (user, index) alone, so any page of a 10,000-task
 * list costs only that page's work and every server instance, in every
 * process, serves the same tasks. Dates are placed relative to "today" on
 * this machine so the list always shows overdue, today, this-week and later
 * items.
 */

export interface DemoUser {
  id: string;
  name: string;
  email: string;
  /** Task ids read like a tracker's keys: DEMO-42. */
  taskPrefix: string;
  workspace: { id: string; name: string };
}

export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: 'demo-user',
    name: 'Demo User',
    email: 'demo@tokentray.dev',
    taskPrefix: 'DEMO',
    workspace: { id: 'ws-demo', name: 'Demo workspace' },
  },
  {
    id: 'demo-colleague',
    name: 'Alex Kim',
    email: 'alex.kim@tokentray.dev',
    taskPrefix: 'ALEX',
    workspace: { id: 'ws-demo-team', name: 'Demo team workspace' },
  },
];

export const DEFAULT_DEMO_TASK_COUNT = 300;
export const MAX_PER_PAGE = 100;

export function findDemoUser(id: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.id === id);
}

export type DemoPriority = 'none' | 'low' | 'normal' | 'high' | 'urgent';

/** A task as the demo API returns it (its own wire format, mapped to Task by providers/demo.ts). */
export interface DemoApiTask {
  id: string;
  title: string;
  status: 'open' | 'done';
  priority: DemoPriority;
  project: { id: string; name: string };
  workspace_id: string;
  assignees: Array<{ id: string; name: string }>;
  /** date is the local calendar day; datetime (with offset) and timezone only for timed items. */
  due: { date: string; datetime: string | null; timezone: string | null } | null;
  updated_at: string;
  url: string;
}

export interface DemoTaskPage {
  tasks: DemoApiTask[];
  next_page: number | null;
}

const PROJECTS = {
  web: { id: 'p-web', name: 'Website relaunch' },
  app: { id: 'p-app', name: 'Mobile app' },
  plan: { id: 'p-plan', name: 'Quarterly planning' },
  cs: { id: 'p-cs', name: 'Customer success' },
  hire: { id: 'p-hire', name: 'Hiring' },
  ops: { id: 'p-ops', name: 'Operations' },
  mkt: { id: 'p-mkt', name: 'Marketing' },
} as const;

type ProjectKey = keyof typeof PROJECTS;

const FILL: Record<string, readonly string[]> = {
  client: [
    'Acme Corp',
    'Globex',
    'Initech',
    'Umbrella Health',
    'Stark Logistics',
    'Hooli',
    'Vandelay Imports',
    'Northwind Traders',
    'Contoso',
    'Blue Harbor Bank',
  ],
  bug: [
    'the login redirect loop on Safari',
    'the broken CSV export',
    'the time zone bug in reminders',
    'slow dashboard loading',
    'the crash when uploading large files',
    'duplicate email notifications',
    'missing translations in settings',
    'the flaky checkout test',
  ],
  doc: [
    'the onboarding guide',
    'the Q3 roadmap',
    'release notes for v2.4',
    'the security policy',
    'the API documentation',
    'the pricing page copy',
    'the incident postmortem',
    'the hiring plan',
  ],
  meeting: [
    'Monday standup',
    'the quarterly review',
    'the board meeting',
    'sprint planning',
    'the all-hands',
    'the customer advisory call',
  ],
  feature: [
    'dark mode',
    'the new search',
    'SSO login',
    'bulk editing',
    'calendar sync',
    'CSV import',
    'offline mode',
    'the home screen widget',
  ],
  person: ['Maria', 'Jonas', 'Priya', 'Tom', 'Aiko', 'Lucas', 'Fatima', 'Daniel', 'Emma', 'Kenji'],
  event: ['the Berlin offsite', 'the team retreat', 'the conference in Lisbon', 'the customer workshop'],
  month: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
  tool: ['Figma', 'GitHub', 'Slack', 'Zoom', 'the domain'],
  vendor: ['the print shop', 'three cloud vendors', 'the catering company', 'the design agency'],
  role: ['Senior Backend Engineer', 'Product Designer', 'Support Lead', 'Data Analyst'],
  system: ['billing', 'auth', 'search', 'reporting'],
  channel: ['#support', '#product', '#general'],
  campaign: ['the spring newsletter', 'the summer sale', 'the webinar series', 'the referral program'],
};

const TEMPLATES: ReadonlyArray<readonly [string, ProjectKey]> = [
  ['Review pull request #{n}', 'app'],
  ['Fix {bug}', 'app'],
  ['Investigate {bug}', 'web'],
  ['Write tests for {feature}', 'app'],
  ['Ship {feature}', 'app'],
  ['Design review: {feature}', 'web'],
  ['Record a demo video for {feature}', 'mkt'],
  ['Publish blog post about {feature}', 'mkt'],
  ['Update {doc}', 'web'],
  ['Draft {doc}', 'plan'],
  ['Translate {doc} into German', 'web'],
  ['Prepare slides for {meeting}', 'plan'],
  ['Write the agenda for {meeting}', 'plan'],
  ['Send notes from {meeting}', 'plan'],
  ['Reply to {client} about the renewal', 'cs'],
  ['Send invoice to {client}', 'ops'],
  ['Follow up with {client} after the demo', 'cs'],
  ['Call {client} about open support tickets', 'cs'],
  ['Schedule a 1:1 with {person}', 'hire'],
  ["Give feedback on {person}'s proposal", 'plan'],
  ['Onboard {person} to the team', 'hire'],
  ['Approve time off for {person}', 'ops'],
  ['Order a new laptop for {person}', 'ops'],
  ['Interview candidate for the {role} role', 'hire'],
  ['Post the job opening for {role}', 'hire'],
  ['Book travel for {event}', 'ops'],
  ['Plan {event}', 'ops'],
  ['Submit expense report for {month}', 'ops'],
  ['Archive {month} reports', 'ops'],
  ['Renew the {tool} subscription', 'ops'],
  ['Collect quotes from {vendor}', 'ops'],
  ['Sign the contract with {vendor}', 'ops'],
  ['Migrate {system} to the new cluster', 'app'],
  ['Rotate API keys for {system}', 'app'],
  ['Check the {system} backups', 'app'],
  ['Answer questions in {channel}', 'cs'],
  ['Check analytics for {campaign}', 'mkt'],
  ['Launch {campaign}', 'mkt'],
  ['Write copy for {campaign}', 'mkt'],
  ['Clean up the {system} backlog', 'web'],
  ['Review the {month} budget with {person}', 'plan'],
  ['Pair with {person} on {feature}', 'app'],
  ['Ask {person} for a status update on {feature}', 'plan'],
  ['Prepare the {client} quarterly business review', 'cs'],
  ['Send the renewal quote to {client}', 'cs'],
  ['Set up a trial workspace for {client}', 'cs'],
  ['Update the landing page for {feature}', 'web'],
  ['Fix broken links in {doc}', 'web'],
  ['Proofread {doc}', 'web'],
  ['Write reference check questions for the {role} role', 'hire'],
  ['Debrief with {person} after the {role} interview', 'hire'],
  ['Reserve a room for {meeting}', 'ops'],
  ['Pay the invoice from {vendor}', 'ops'],
  ['Plan the budget for {campaign}', 'mkt'],
  ['Draft social posts for {campaign}', 'mkt'],
  ['Upgrade the {system} dependencies', 'app'],
  ['Add monitoring alerts for {system}', 'app'],
  ['Estimate the work for {feature}', 'plan'],
];

const PRIORITIES: ReadonlyArray<readonly [DemoPriority, number]> = [
  ['none', 0.3],
  ['low', 0.2],
  ['normal', 0.3],
  ['high', 0.15],
  ['urgent', 0.05],
];

/** FNV-1a: a stable 32-bit seed from a string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny, fast, good enough to make demo data look varied. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** ISO 8601 in this machine's local time with its offset, e.g. 2025-03-14T15:30:00+01:00. */
function localDateTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function startOfLocalDay(now: number): Date {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d;
}

function localTimeZone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

function dueFor(random: () => number, today: Date): DemoApiTask['due'] {
  const bucket = random();
  let days: number;
  if (bucket < 0.14)
    days = -1 - Math.floor(random() * 21); // overdue
  else if (bucket < 0.3)
    days = 0; // today
  else if (bucket < 0.52)
    days = 1 + Math.floor(random() * 6); // this week
  else if (bucket < 0.8)
    days = 7 + Math.floor(random() * 84); // later
  else return null; // no due date
  const day = new Date(today);
  day.setDate(day.getDate() + days);
  if (random() < 0.7) return { date: localDate(day), datetime: null, timezone: null };
  day.setHours(9 + Math.floor(random() * 9), random() < 0.5 ? 0 : 30, 0, 0);
  return { date: localDate(day), datetime: localDateTime(day), timezone: localTimeZone() };
}

function titleFrom(random: () => number, template: string): string {
  return template.replace(/\{(\w+)\}/g, (_, slot: string) =>
    slot === 'n' ? String(100 + Math.floor(random() * 1900)) : pick(random, FILL[slot] ?? [slot]),
  );
}

function priorityFrom(random: () => number): DemoPriority {
  let r = random();
  for (const [priority, weight] of PRIORITIES) {
    if (r < weight) return priority;
    r -= weight;
  }
  return 'none';
}

export function demoTaskId(user: DemoUser, index: number): string {
  return `${user.taskPrefix}-${index + 1}`;
}

/** The zero-based index a task id stands for, or null when it is not this user's id. */
export function demoTaskIndex(user: DemoUser, id: string): number | null {
  const m = /^([A-Z]+)-(\d{1,7})$/.exec(id);
  if (!m || m[1] !== user.taskPrefix) return null;
  const n = Number(m[2]);
  return n >= 1 ? n - 1 : null;
}

/** Task `index` (zero-based) of `user`, as served at `now` by the server at `baseUrl`. */
export function demoTask(user: DemoUser, index: number, baseUrl: string, now: number): DemoApiTask {
  const random = rng(hash32(`${user.id}:${index}`));
  const [template, projectKey] = pick(random, TEMPLATES);
  const today = startOfLocalDay(now);
  const due = dueFor(random, today);
  const overdue = due !== null && due.date < localDate(today);
  // Old overdue items are more often already done, as in a real tracker.
  const done = random() < (overdue ? 0.2 : 0.06);
  const assignees: DemoApiTask['assignees'] = [];
  if (random() < 0.65) assignees.push({ id: user.id, name: user.name });
  if (random() < 0.45 || assignees.length === 0) {
    const colleague = pick(random, FILL['person'] ?? []);
    assignees.push({ id: `u-${colleague.toLowerCase()}`, name: colleague });
  }
  const minutesAgo = 5 + Math.floor(random() * 45 * 24 * 60);
  const id = demoTaskId(user, index);
  return {
    id,
    title: titleFrom(random, template),
    status: done ? 'done' : 'open',
    priority: priorityFrom(random),
    project: { ...PROJECTS[projectKey] },
    workspace_id: user.workspace.id,
    assignees,
    due,
    updated_at: new Date(today.getTime() - minutesAgo * 60_000).toISOString(),
    url: `${baseUrl}/tasks/${id}`,
  };
}

/** One page (1-based) of `total` tasks; only that page's tasks are generated. */
export function demoTaskPage(
  user: DemoUser,
  page: number,
  perPage: number,
  total: number,
  baseUrl: string,
  now: number,
): DemoTaskPage {
  const start = (page - 1) * perPage;
  const end = Math.min(total, start + perPage);
  const tasks: DemoApiTask[] = [];
  for (let i = start; i < end; i += 1) tasks.push(demoTask(user, i, baseUrl, now));
  return { tasks, next_page: end < total ? page + 1 : null };
}
