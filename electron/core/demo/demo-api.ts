import type { Clock } from '../clock';
import { errorPage, landingPage, taskPage } from './consent-page';
import type { DemoAuthorizationServer } from './demo-authorization';
import { MAX_PER_PAGE, DEMO_USERS, demoTask, demoTaskIndex, demoTaskPage } from './demo-tasks';
import { HttpError, oauthError, only, sendJson, sendPage, type DemoRoute } from './demo-http';

/**
 * The demo's resource server: the JSON API Tokentray calls (/api/me, /api/workspaces,
 * /api/tasks, bearer tokens only) and the pages a task's link opens (/tasks/:id, the landing page).
 */

export interface DemoApiOptions {
  auth: DemoAuthorizationServer;
  clock: Clock;
  taskCount: number;
  /** The server's own address, for the task links; known once it listens. */
  baseUrl: () => string;
}

function positiveInt(raw: string | null, name: string, fallback: number): number {
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) {
    throw oauthError(400, 'invalid_request', `${name} must be a whole number from 1.`);
  }
  return Number(raw);
}

export function apiRoutes(o: DemoApiOptions): DemoRoute {
  function api(req: Parameters<DemoAuthorizationServer['authenticate']>[0], url: URL): unknown {
    o.auth.stats.apiRequests += 1;
    const { user } = o.auth.authenticate(req);
    switch (url.pathname) {
      case '/api/me':
        return { id: user.id, name: user.name, email: user.email };
      case '/api/workspaces':
        return [{ id: user.workspace.id, name: user.workspace.name }];
      case '/api/tasks': {
        const page = positiveInt(url.searchParams.get('page'), 'page', 1);
        const perPage = Math.min(MAX_PER_PAGE, positiveInt(url.searchParams.get('per_page'), 'per_page', MAX_PER_PAGE));
        return demoTaskPage(user, page, perPage, o.taskCount, o.baseUrl(), o.clock.now());
      }
      default:
        throw new HttpError(404, { error: 'not_found', error_description: 'There is no such API endpoint.' });
    }
  }

  function taskDetail(url: URL): { status: number; html: string } {
    const id = decodeURIComponent(url.pathname.slice('/tasks/'.length));
    for (const user of DEMO_USERS) {
      const index = demoTaskIndex(user, id);
      if (index !== null && index < o.taskCount) {
        return { status: 200, html: taskPage(demoTask(user, index, o.baseUrl(), o.clock.now())) };
      }
    }
    return { status: 404, html: errorPage('No such task', 'The demo workspace has no task with this id.') };
  }

  return (req, res, url) => {
    const path = url.pathname;
    if (path === '/') {
      only(req, 'GET');
      sendPage(res, 200, landingPage());
      return true;
    }
    if (path.startsWith('/api/')) {
      only(req, 'GET');
      sendJson(res, 200, api(req, url), { 'cache-control': 'no-store' });
      return true;
    }
    if (path.startsWith('/tasks/')) {
      only(req, 'GET');
      const page = taskDetail(url);
      sendPage(res, page.status, page.html);
      return true;
    }
    return false;
  };
}
