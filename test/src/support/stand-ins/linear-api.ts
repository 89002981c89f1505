import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the stand-in received. */
export interface LinearRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (`{ query, variables }`), or the raw text when it was not JSON. */
  body: unknown;
}

export interface LinearTeam {
  id: string;
  key: string;
  name: string;
}

export interface LinearIssue {
  id: string;
  identifier: string;
  title: string;
  description: string | null;
  priority: number;
  priorityLabel: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  state: { id: string; name: string; type: string };
  assignee: { id: string; name: string } | null;
  team: LinearTeam;
}

export interface LinearApiStandIn {
  /** The API's base URL (POST {url}/graphql). */
  url: string;
  received: LinearRequest[];
  /** The user the API key belongs to. */
  viewer: { id: string; name: string };
  teams: LinearTeam[];
  issues: LinearIssue[];
  /** Adds a team. */
  addTeam(key: string, name?: string): LinearTeam;
  /** Adds `count` issues to a team, assigned to the viewer when `assignedToViewer` says so. */
  seedIssues(team: LinearTeam, count: number, assignedToViewer?: (index: number) => boolean): LinearIssue[];
  /** The next `count` requests get 429 with Retry-After: `retryAfterSeconds`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  close(): Promise<void>;
}

const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PAGE_SIZE = 250;

interface GraphqlError {
  message: string;
  path?: string[];
  extensions: { type: string; code: string; statusCode?: number; userError?: boolean; userPresentableMessage?: string };
}

/**
 * Plays Linear's GraphQL API (https://developers.linear.app/docs/graphql/working-with-the-graphql-api)
 * on 127.0.0.1, for the operations the plugin uses: `issueCreate`, `team(id) { issues }` with
 * the `assignee.isMe` filter, `viewer { assignedIssues }`, with Relay cursor pagination
 * (`first`, `after`, `pageInfo { hasNextPage endCursor }`).
 *
 * Authentication as Linear does it: a personal API key is the raw `Authorization` value (a
 * `Bearer ` prefix on it is refused), an OAuth access token is `Bearer <token>`; anything else
 * is 401 with Linear's `authentication error`. Errors are `{ errors: [{ message, extensions:
 * { type, code, userPresentableMessage } }] }`: invalid input 400, unknown entity as data null
 * plus errors with 200, rate limits 429 with Retry-After and X-RateLimit-Requests-Reset.
 */
export async function startLinearApi(options: { apiKey: string; oauthToken?: string }): Promise<LinearApiStandIn> {
  const received: LinearRequest[] = [];
  const viewer = { id: randomUUID(), name: 'Ada Lovelace' };
  const teams: LinearTeam[] = [];
  const issues: LinearIssue[] = [];
  let rateLimited = 0;
  let retryAfter = 1;
  let clock = Date.parse('2025-01-01T00:00:00Z');

  const addTeam = (key: string, name = key): LinearTeam => {
    const team = { id: randomUUID(), key, name };
    teams.push(team);
    return team;
  };
  const createIssue = (team: LinearTeam, fields: { title: string; description?: string | null; priority?: number; assignee?: { id: string; name: string } | null }): LinearIssue => {
    const number = issues.filter((i) => i.team.id === team.id).length + 1;
    const identifier = `${team.key}-${number}`;
    const at = new Date((clock += 1000)).toISOString();
    const priority = fields.priority ?? 0;
    const issue: LinearIssue = {
      id: randomUUID(),
      identifier,
      title: fields.title,
      description: fields.description ?? null,
      priority,
      priorityLabel: PRIORITY_LABELS[priority]!,
      url: `https://linear.app/acme/issue/${identifier}/${fields.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
      createdAt: at,
      updatedAt: at,
      state: { id: 'state-todo', name: 'Todo', type: 'unstarted' },
      assignee: fields.assignee ?? null,
      team,
    };
    issues.push(issue);
    return issue;
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep the text */
      }
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      answer(req.method!, req.url!, req.headers, body, res);
    });
  });

  function answer(method: string, path: string, headers: IncomingHttpHeaders, body: unknown, res: ServerResponse): void {
    if (path !== '/graphql') return send(res, 404, { errors: [gqlError('Not found', 'invalid input', 'NOT_FOUND')] });
    if (method !== 'POST') return send(res, 405, { errors: [gqlError(`Method ${method} not allowed`, 'invalid input', 'METHOD_NOT_ALLOWED')] });

    const authorization = headers.authorization;
    const authenticated = authorization === options.apiKey || (options.oauthToken !== undefined && authorization === `Bearer ${options.oauthToken}`);
    if (!authenticated) {
      const hint = authorization === `Bearer ${options.apiKey}` ? 'It looks like you are using an API key as a Bearer token; send it without the Bearer prefix.' : 'You need to authenticate to access this operation.';
      return send(res, 401, { errors: [gqlError('Authentication required, not authenticated', 'authentication error', 'AUTHENTICATION_ERROR', hint, 401)] });
    }
    if (rateLimited > 0) {
      rateLimited--;
      return send(res, 429, { errors: [gqlError('Rate limit exceeded', 'ratelimited', 'RATELIMITED', 'You have exceeded the API rate limit.', 429)] }, {
        'retry-after': String(retryAfter),
        'x-ratelimit-requests-limit': '1500',
        'x-ratelimit-requests-remaining': '0',
        'x-ratelimit-requests-reset': String(Date.now() + retryAfter * 1000),
      });
    }
    if (!(headers['content-type'] ?? '').includes('application/json')) return send(res, 400, { errors: [gqlError('POST body must be JSON', 'graphql error', 'BAD_REQUEST')] });
    const { query, variables = {} } = (typeof body === 'object' && body !== null ? body : {}) as { query?: unknown; variables?: Record<string, unknown> };
    if (typeof query !== 'string' || query.trim() === '') return send(res, 400, { errors: [gqlError('Must provide query string.', 'graphql error', 'GRAPHQL_VALIDATION_FAILED')] });

    if (/^\s*mutation\b[\s\S]*\bissueCreate\s*\(\s*input:\s*\$input\s*\)/.test(query)) return issueCreate(res, variables);
    if (/^\s*query\b[\s\S]*\bteam\s*\(\s*id:\s*\$teamId\s*\)\s*\{\s*issues\s*\(/.test(query)) return teamIssues(res, variables);
    if (/^\s*query\b[\s\S]*\bviewer\s*\{\s*assignedIssues\s*\(/.test(query)) return page(res, ['viewer', 'assignedIssues'], issues.filter((i) => i.assignee?.id === viewer.id), variables);
    return send(res, 400, { errors: [gqlError('Cannot query this operation on the stand-in: only issueCreate, team.issues and viewer.assignedIssues are played', 'graphql error', 'GRAPHQL_VALIDATION_FAILED')] });
  }

  function issueCreate(res: ServerResponse, variables: Record<string, unknown>): void {
    const input = variables.input as { teamId?: unknown; title?: unknown; description?: unknown; priority?: unknown } | undefined;
    if (!input || typeof input !== 'object') return send(res, 400, { errors: [gqlError('Variable "$input" of required type "IssueCreateInput!" was not provided.', 'graphql error', 'GRAPHQL_VALIDATION_FAILED')] });
    const invalid = (message: string) => send(res, 400, { errors: [{ ...gqlError('Argument Validation Error', 'invalid input', 'INVALID_INPUT', message), path: ['issueCreate'] }] });
    if (typeof input.teamId !== 'string' || !UUID.test(input.teamId)) return invalid('teamId must be a UUID.');
    if (typeof input.title !== 'string' || input.title.trim() === '') return invalid('title must not be empty.');
    if (input.priority !== undefined && (!Number.isInteger(input.priority) || (input.priority as number) < 0 || (input.priority as number) > 4)) return invalid('priority must be an integer from 0 to 4.');
    const team = teams.find((t) => t.id === input.teamId);
    if (!team) return send(res, 200, { data: null, errors: [{ ...gqlError('Entity not found: Team', 'invalid input', 'INPUT_ERROR', 'Could not find referenced Team.'), path: ['issueCreate'] }] });
    const issue = createIssue(team, { title: input.title, description: typeof input.description === 'string' ? input.description : null, priority: input.priority as number | undefined });
    send(res, 200, { data: { issueCreate: { success: true, issue: { id: issue.id, identifier: issue.identifier, title: issue.title, url: issue.url } } } });
  }

  function teamIssues(res: ServerResponse, variables: Record<string, unknown>): void {
    const team = teams.find((t) => t.id === variables.teamId);
    if (!team) return send(res, 200, { data: null, errors: [{ ...gqlError('Entity not found: Team', 'invalid input', 'INPUT_ERROR', 'Could not find referenced Team.'), path: ['team'] }] });
    const filter = variables.filter as { assignee?: { isMe?: { eq?: boolean } } } | undefined;
    const mine = filter?.assignee?.isMe?.eq === true;
    page(res, ['team', 'issues'], issues.filter((i) => i.team.id === team.id && (!mine || i.assignee?.id === viewer.id)), variables);
  }

  /** One Relay page of `all` after the cursor (an issue id), nested under `path`. */
  function page(res: ServerResponse, path: [string, string], all: LinearIssue[], variables: Record<string, unknown>): void {
    const first = variables.first;
    if (!Number.isInteger(first) || (first as number) < 1 || (first as number) > MAX_PAGE_SIZE) {
      return send(res, 400, { errors: [gqlError('Argument Validation Error', 'invalid input', 'INVALID_INPUT', `first must be between 1 and ${MAX_PAGE_SIZE}.`)] });
    }
    let start = 0;
    if (variables.after !== undefined && variables.after !== null) {
      const index = all.findIndex((i) => i.id === variables.after);
      if (index === -1) return send(res, 400, { errors: [gqlError('Invalid cursor', 'invalid input', 'INVALID_INPUT', 'The pagination cursor is not valid.')] });
      start = index + 1;
    }
    const nodes = all.slice(start, start + (first as number));
    const connection = { nodes, pageInfo: { hasNextPage: start + nodes.length < all.length, endCursor: nodes.length ? nodes[nodes.length - 1]!.id : null } };
    send(res, 200, { data: { [path[0]]: { [path[1]]: connection } } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    viewer,
    teams,
    issues,
    addTeam,
    seedIssues(team, count, assignedToViewer = () => false) {
      return Array.from({ length: count }, (_, i) => createIssue(team, { title: `Seeded issue ${i + 1}`, assignee: assignedToViewer(i) ? viewer : null }));
    },
    rateLimitNext(count, seconds) {
      rateLimited = count;
      retryAfter = seconds;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function gqlError(message: string, type: string, code: string, userPresentableMessage?: string, statusCode?: number): GraphqlError {
  return { message, extensions: { type, code, ...(statusCode ? { statusCode } : {}), userError: true, ...(userPresentableMessage ? { userPresentableMessage } : {}) } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
