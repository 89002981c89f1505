import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plays the GitHub REST API (v3, 2022-11-28) on 127.0.0.1 for the endpoints the github plugin
 * uses, with GitHub's documented request and response shapes:
 *
 * - `GET /user/repos` (per_page, page, visibility, sort; a `Link` header between pages)
 * - `POST /repos/{owner}/{repo}/issues`, `GET /repos/{owner}/{repo}/issues/{issue_number}`
 * - `POST /repos/{owner}/{repo}/hooks`, `DELETE /repos/{owner}/{repo}/hooks/{hook_id}`
 *
 * Every request needs `Authorization: Bearer <token>` (401 `Bad credentials` otherwise, or
 * `Requires authentication` without one); a wrong `X-GitHub-Api-Version` is a 400. Failures
 * have GitHub's body `{ message, documentation_url, status }`, 422s an `errors` list. `failNext`
 * queues raw answers (rate limits, outages) served before any route. Every request is recorded.
 *
 * It also plays GitHub's webhook deliveries: `deliver` POSTs an event to each hook of a
 * repository that subscribes to it, as GitHub does (X-GitHub-Event, X-GitHub-Delivery,
 * X-GitHub-Hook-ID, X-Hub-Signature-256 / X-Hub-Signature over the exact body with the hook's
 * secret, a JSON or form body per the hook's content_type); `redeliver` sends a delivery again
 * with the same id and body (GitHub's Redeliver). With `pingOnCreate` a new hook gets a `ping`.
 */
export interface GitHubApiStandIn {
  url: string;
  requests: RecordedGitHubRequest[];
  /** The repositories, by `owner/name`, with their issues and hooks. */
  repositories: Map<string, StandInRepository>;
  /** Answers the next requests with these, in order, whatever they ask. */
  failNext(...responses: CannedGitHubResponse[]): void;
  /** Every webhook delivery sent so far (pings included), oldest first. */
  deliveries: HookDelivery[];
  /**
   * Delivers `event` with `payload` to each active hook of the repository (`owner/name`) that
   * subscribes to it (or to `*`); answers the deliveries made. `sign` overrides the secret the
   * body is signed with (a wrong one, or null for no signature headers).
   */
  deliver(repository: string, event: string, payload: Record<string, unknown>, options?: { sign?: string | null }): Promise<HookDelivery[]>;
  /** An `issues` event for an issue of the repository (created through the API), as GitHub builds it. */
  deliverIssueEvent(repository: string, action: string, issueNumber: number, options?: { sign?: string | null }): Promise<HookDelivery[]>;
  /** Sends a delivery again: same X-GitHub-Delivery, same body and signature, to the same URL (also once its hook is gone). */
  redeliver(delivery: HookDelivery): Promise<HookDelivery>;
  close(): Promise<void>;
}

/** One webhook delivery the stand-in sent, and what the receiver answered. */
export interface HookDelivery {
  id: string;
  hookId: number;
  event: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The receiver's status (0 when it could not be reached) and body, parsed when JSON. */
  status: number;
  response: unknown;
}

export interface RecordedGitHubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: unknown;
}

export interface CannedGitHubResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface StandInRepository {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  description: string | null;
  fork: boolean;
  archived: boolean;
  /** Logins that may be assigned to its issues. */
  collaborators: string[];
  issues: Array<Record<string, unknown>>;
  hooks: Array<Record<string, unknown>>;
  updated_at: string;
}

export interface GitHubApiOptions {
  /** The token the stand-in accepts. Default `test-token`. */
  token?: string;
  /** The authenticated user's login. Default `octo`. */
  login?: string;
  /** Deliver a `ping` to a hook right after creating it, as GitHub does. Default false. */
  pingOnCreate?: boolean;
}

const API_VERSION = '2022-11-28';
const DOCS = 'https://docs.github.com/rest';

export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApiStandIn> {
  const token = options.token ?? 'test-token';
  const login = options.login ?? 'octo';
  const requests: RecordedGitHubRequest[] = [];
  const queued: CannedGitHubResponse[] = [];
  const repositories = seedRepositories(login);
  let nextIssueId = 1000;
  let nextHookId = 5000;
  let baseUrl = '';
  const deliveries: HookDelivery[] = [];

  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const url = new URL(req.url ?? '/', baseUrl);
      let body: unknown = raw;
      if (raw && (req.headers['content-type'] ?? '').startsWith('application/json')) {
        try {
          body = JSON.parse(raw);
        } catch {
          return send(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
        }
      }
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers } as Record<string, string | undefined>, body });

      const canned = queued.shift();
      if (canned) return send(res, canned.status, canned.body ?? '', canned.headers);

      const authorization = req.headers.authorization;
      if (!authorization) return send(res, 401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
      if (authorization !== `Bearer ${token}`) return send(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      const version = req.headers['x-github-api-version'];
      if (version !== undefined && version !== API_VERSION) {
        return send(res, 400, { message: `API version '${String(version)}' is not supported.`, documentation_url: `${DOCS}/about-the-rest-api/api-versions`, status: '400' });
      }

      const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (method === 'GET' && url.pathname === '/user/repos') return listRepos(url, res);
      if (segments[0] === 'repos' && segments.length >= 4) {
        const repo = repositories.get(`${segments[1]}/${segments[2]}`.toLowerCase());
        const resource = segments.slice(3);
        if (!repo) return notFound(res, resource[0] === 'hooks' ? 'repos/webhooks' : 'issues/issues');
        if (resource[0] === 'issues' && resource.length === 1 && method === 'POST') return createIssue(repo, body, res);
        if (resource[0] === 'issues' && resource.length === 2 && method === 'GET') {
          const issue = repo.issues.find((i) => String(i.number) === resource[1]);
          return issue ? send(res, 200, issue) : notFound(res, 'issues/issues#get-an-issue');
        }
        if (resource[0] === 'hooks' && resource.length === 1 && method === 'POST') return createHook(repo, body, res);
        if (resource[0] === 'hooks' && resource.length === 2 && method === 'DELETE') {
          const index = repo.hooks.findIndex((h) => String(h.id) === resource[1]);
          if (index === -1) return notFound(res, 'repos/webhooks#delete-a-repository-webhook');
          repo.hooks.splice(index, 1);
          return send(res, 204, '');
        }
      }
      return notFound(res, '');
    });
  });

  function listRepos(url: URL, res: ServerResponse): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const visibility = url.searchParams.get('visibility') ?? 'all';
    if (!['all', 'public', 'private'].includes(visibility)) {
      return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Repository', field: 'visibility', code: 'invalid' }], documentation_url: `${DOCS}/repos/repos`, status: '422' });
    }
    const sort = url.searchParams.get('sort') ?? 'full_name';
    const all = [...repositories.values()]
      .filter((r) => visibility === 'all' || (visibility === 'private') === r.private)
      .sort((a, b) => (sort === 'full_name' ? `${a.owner}/${a.name}`.localeCompare(`${b.owner}/${b.name}`) : b.updated_at.localeCompare(a.updated_at)));
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    const items = all.slice((page - 1) * perPage, page * perPage).map(repositoryJson);
    const link = (p: number, rel: string) => {
      const target = new URL(url.href);
      target.searchParams.set('page', String(p));
      target.searchParams.set('per_page', String(perPage));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    send(res, 200, items, links.length ? { link: links.join(', ') } : {});
  }

  function createIssue(repo: StandInRepository, body: unknown, res: ServerResponse): void {
    const input = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const errors: Array<Record<string, unknown>> = [];
    if (typeof input.title !== 'string' && typeof input.title !== 'number') errors.push({ resource: 'Issue', field: 'title', code: 'missing_field' });
    const assignees = Array.isArray(input.assignees) ? (input.assignees as unknown[]) : [];
    for (const a of assignees) if (typeof a !== 'string' || !repo.collaborators.includes(a)) errors.push({ value: a, resource: 'Issue', field: 'assignees', code: 'invalid' });
    if (errors.length) return send(res, 422, { message: 'Validation Failed', errors, documentation_url: `${DOCS}/issues/issues#create-an-issue`, status: '422' });
    const number = repo.issues.length + 1;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const api = `${baseUrl}/repos/${repo.owner}/${repo.name}`;
    const labels = (Array.isArray(input.labels) ? input.labels : []).map((name, i) => ({ id: 100 + i, node_id: `LA_${i}`, url: `${api}/labels/${String(name)}`, name: String(name), color: 'ededed', default: false, description: null }));
    const issue = {
      id: nextIssueId++,
      node_id: `I_${number}`,
      url: `${api}/issues/${number}`,
      repository_url: api,
      labels_url: `${api}/issues/${number}/labels{/name}`,
      comments_url: `${api}/issues/${number}/comments`,
      events_url: `${api}/issues/${number}/events`,
      html_url: `https://github.com/${repo.owner}/${repo.name}/issues/${number}`,
      number,
      state: 'open',
      state_reason: null,
      title: String(input.title),
      body: typeof input.body === 'string' ? input.body : null,
      user: userJson(login),
      labels,
      assignee: assignees.length ? userJson(String(assignees[0])) : null,
      assignees: assignees.map((a) => userJson(String(a))),
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: 0,
      closed_at: null,
      created_at: now,
      updated_at: now,
      closed_by: null,
      author_association: 'OWNER',
    };
    repo.issues.push(issue);
    send(res, 201, issue, { location: issue.url });
  }

  function createHook(repo: StandInRepository, body: unknown, res: ServerResponse): void {
    const input = (body && typeof body === 'object' ? body : {}) as { name?: unknown; active?: unknown; events?: unknown; config?: Record<string, unknown> };
    if (!input.config || typeof input.config.url !== 'string') {
      return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Config must contain url' }], documentation_url: `${DOCS}/repos/webhooks`, status: '422' });
    }
    if (input.name !== undefined && input.name !== 'web') {
      return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', field: 'name', message: 'Name must be "web"' }], documentation_url: `${DOCS}/repos/webhooks`, status: '422' });
    }
    if (repo.hooks.some((h) => (h.config as { url: string }).url === input.config!.url)) {
      return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }], documentation_url: `${DOCS}/repos/webhooks`, status: '422' });
    }
    const id = nextHookId++;
    const api = `${baseUrl}/repos/${repo.owner}/${repo.name}/hooks/${id}`;
    const now = new Date().toISOString();
    const hook = {
      type: 'Repository',
      id,
      name: 'web',
      active: input.active ?? true,
      events: Array.isArray(input.events) ? input.events : ['push'],
      config: { content_type: input.config.content_type ?? 'form', insecure_ssl: input.config.insecure_ssl ?? '0', url: input.config.url, ...(input.config.secret ? { secret: '********' } : {}) },
      updated_at: now,
      created_at: now,
      url: api,
      test_url: `${api}/test`,
      ping_url: `${api}/pings`,
      deliveries_url: `${api}/deliveries`,
      last_response: { code: null, status: 'unused', message: null },
    };
    repo.hooks.push({ ...hook, secret: input.config.secret, repository_id: repo.id });
    send(res, 201, hook);
    if (options.pingOnCreate) {
      const ping = { zen: 'Design for failure.', hook_id: id, hook: { ...hook }, repository: repositoryJson(repo), sender: userJson(login) };
      setImmediate(() => void sendDelivery(repo.hooks[repo.hooks.length - 1]!, 'ping', ping, {}).catch(() => {}));
    }
  }

  /** POSTs one delivery to a hook, signed as GitHub signs it, and records it. */
  async function sendDelivery(hook: Record<string, unknown>, event: string, payload: unknown, options: { sign?: string | null; id?: string; body?: string; headers?: Record<string, string> }): Promise<HookDelivery> {
    const config = hook.config as { url: string; content_type: string };
    const json = JSON.stringify(payload);
    const body = options.body ?? (config.content_type === 'json' ? json : `payload=${encodeURIComponent(json)}`);
    const id = options.id ?? randomUUID();
    let headers = options.headers;
    if (!headers) {
      headers = {
        'user-agent': 'GitHub-Hookshot/044aadd',
        'content-type': config.content_type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
        'x-github-event': event,
        'x-github-delivery': id,
        'x-github-hook-id': String(hook.id),
        'x-github-hook-installation-target-type': 'repository',
        'x-github-hook-installation-target-id': String(hook.repository_id ?? ''),
      };
      const secret = options.sign === undefined ? (hook.secret as string | undefined) : options.sign;
      if (secret) {
        headers['x-hub-signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
        headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      }
    }
    const delivery: HookDelivery = { id, hookId: Number(hook.id), event, url: config.url, headers, body, status: 0, response: null };
    deliveries.push(delivery);
    try {
      const res = await fetch(config.url, { method: 'POST', headers, body });
      delivery.status = res.status;
      const text = await res.text();
      try {
        delivery.response = text ? JSON.parse(text) : null;
      } catch {
        delivery.response = text;
      }
    } catch (e) {
      delivery.response = (e as Error).message;
    }
    return delivery;
  }

  async function deliver(repository: string, event: string, payload: Record<string, unknown>, options: { sign?: string | null } = {}): Promise<HookDelivery[]> {
    const repo = repositories.get(repository.toLowerCase());
    if (!repo) throw new Error(`the stand-in has no repository ${repository}`);
    const hooks = repo.hooks.filter((h) => h.active !== false && ((h.events as string[]).includes(event) || (h.events as string[]).includes('*')));
    const sent: HookDelivery[] = [];
    for (const hook of hooks) sent.push(await sendDelivery(hook, event, payload, options));
    return sent;
  }

  function repositoryJson(r: StandInRepository): Record<string, unknown> {
    return {
      id: r.id,
      node_id: `R_${r.id}`,
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      private: r.private,
      owner: userJson(r.owner),
      html_url: `https://github.com/${r.owner}/${r.name}`,
      description: r.description,
      fork: r.fork,
      url: `${baseUrl}/repos/${r.owner}/${r.name}`,
      default_branch: 'main',
      visibility: r.private ? 'private' : 'public',
      archived: r.archived,
      disabled: false,
      created_at: '2020-01-01T00:00:00Z',
      updated_at: r.updated_at,
      pushed_at: r.updated_at,
      permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    };
  }

  function userJson(name: string): Record<string, unknown> {
    return { login: name, id: name.length * 1000 + name.charCodeAt(0), node_id: `U_${name}`, type: 'User', site_admin: false, html_url: `https://github.com/${name}`, url: `${baseUrl}/users/${name}` };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    requests,
    repositories,
    failNext: (...responses) => void queued.push(...responses),
    deliveries,
    deliver,
    deliverIssueEvent(repository, action, issueNumber, options = {}) {
      const repo = repositories.get(repository.toLowerCase());
      const issue = repo?.issues.find((i) => i.number === issueNumber);
      if (!repo || !issue) throw new Error(`the stand-in has no issue ${repository}#${issueNumber}`);
      return deliver(repository, 'issues', { action, issue, repository: repositoryJson(repo), sender: userJson(login) }, options);
    },
    redeliver(delivery) {
      const hook = { id: delivery.hookId, config: { url: delivery.url, content_type: 'json' } };
      return sendDelivery(hook, delivery.event, null, { id: delivery.id, body: delivery.body, headers: delivery.headers });
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function seedRepositories(login: string): Map<string, StandInRepository> {
  const repo = (id: number, name: string, extra: Partial<StandInRepository> = {}): StandInRepository => ({
    id,
    owner: login,
    name,
    private: false,
    description: null,
    fork: false,
    archived: false,
    collaborators: [login, 'hubot'],
    issues: [],
    hooks: [],
    updated_at: `2024-0${(id % 9) + 1}-01T00:00:00Z`,
    ...extra,
  });
  const list = [
    repo(1, 'hello-world', { description: 'My first repository on GitHub!' }),
    repo(2, 'secret-plans', { private: true, description: 'Not for your eyes' }),
    repo(3, 'spoon-knife', { fork: true }),
    repo(4, 'old-stuff', { archived: true }),
    repo(5, 'zeta', { private: true }),
  ];
  return new Map(list.map((r) => [`${r.owner}/${r.name}`.toLowerCase(), r]));
}

function notFound(res: ServerResponse, docs: string): void {
  send(res, 404, { message: 'Not Found', documentation_url: docs ? `${DOCS}/${docs}` : DOCS, status: '404' });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { ...(text ? { 'content-type': type } : {}), 'x-github-media-type': 'github.v3; format=json', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', ...headers });
  res.end(status === 204 ? undefined : text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}
