// github.create_issue, github.get_issue and the github.issue_event trigger.
// REST shapes: https://docs.github.com/rest/issues/issues
import { ActionError, defineBlock } from '@blockyard/plugin-sdk';
import { expectObject, GITHUB_HEADERS, githubError, repoPath } from './github-api.js';

/** An issue as this plugin's blocks output it: the fields a workflow needs, flattened. */
export interface Issue {
  number: number;
  url: string;
  html_url: string;
  title: string;
  state: string;
  state_reason: string | null;
  body: string | null;
  labels: string[];
  assignees: string[];
  author: string | null;
  comments: number;
  is_pull_request: boolean;
  created_at: string | null;
  updated_at: string | null;
  closed_at: string | null;
}

/** The parts of GitHub's issue object this plugin reads. */
interface GitHubIssue {
  number: number;
  url: string;
  html_url: string;
  title: string;
  state: string;
  state_reason?: string | null;
  body?: string | null;
  labels?: Array<string | { name?: string }>;
  assignees?: Array<{ login: string }> | null;
  assignee?: { login: string } | null;
  user?: { login: string } | null;
  comments?: number;
  pull_request?: unknown;
  created_at?: string;
  updated_at?: string;
  closed_at?: string | null;
}

/** GitHub's issue object reduced to `Issue`. Labels come as objects (or, in some payloads, names). */
export function toIssue(raw: GitHubIssue): Issue {
  const assignees = raw.assignees ?? (raw.assignee ? [raw.assignee] : []);
  return {
    number: raw.number,
    url: raw.url,
    html_url: raw.html_url,
    title: raw.title,
    state: raw.state,
    state_reason: raw.state_reason ?? null,
    body: raw.body ?? null,
    labels: (raw.labels ?? []).map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter((name) => name !== ''),
    assignees: assignees.map((a) => a.login),
    author: raw.user?.login ?? null,
    comments: raw.comments ?? 0,
    is_pull_request: raw.pull_request !== undefined && raw.pull_request !== null,
    created_at: raw.created_at ?? null,
    updated_at: raw.updated_at ?? null,
    closed_at: raw.closed_at ?? null,
  };
}

export interface CreateIssueInputs {
  owner: string;
  repo: string;
  title: string;
  body?: string;
  labels?: string[];
  assignees?: string[];
}

/** github.create_issue: POST /repos/{owner}/{repo}/issues, yields `issue`. */
export const createIssue = defineBlock<CreateIssueInputs>(async function* ({ owner, repo, title, body, labels, assignees }, context) {
  const json: Record<string, unknown> = { title };
  if (body !== undefined) json.body = body;
  if (labels !== undefined) json.labels = labels;
  if (assignees !== undefined) json.assignees = assignees;
  const res = await context.fetch<GitHubIssue>(`${repoPath(owner, repo)}/issues`, { method: 'POST', json, headers: { ...GITHUB_HEADERS } });
  if (!res.ok) throw githubError(res, { resource: `repository ${owner}/${repo}` });
  yield ['issue', toIssue(expectObject<GitHubIssue>(res, 'the created issue'))];
});

export interface GetIssueInputs {
  owner: string;
  repo: string;
  issue_number: number;
}

/** github.get_issue: GET /repos/{owner}/{repo}/issues/{issue_number}, yields `issue`. */
export const getIssue = defineBlock<GetIssueInputs>(async function* ({ owner, repo, issue_number }, context) {
  const res = await context.fetch<GitHubIssue>(`${repoPath(owner, repo)}/issues/${issue_number}`, { headers: { ...GITHUB_HEADERS } });
  if (!res.ok) throw githubError(res, { resource: `issue ${owner}/${repo}#${issue_number}` });
  yield ['issue', toIssue(expectObject<GitHubIssue>(res, 'the issue'))];
});

/** An `issues` webhook event as the trigger outputs it. */
export interface IssueEvent {
  action: string;
  issue: Issue;
  repository: string | null;
  sender: string | null;
  label?: string;
  assignee?: string;
}

interface IssuesEventPayload {
  action?: unknown;
  issue?: unknown;
  repository?: { full_name?: string } | null;
  sender?: { login?: string } | null;
  label?: { name?: string } | null;
  assignee?: { login?: string } | null;
}

/**
 * github.issue_event: fired by GitHub's `issues` webhook (opened, edited, closed, labeled ...);
 * yields the event, with its issue reduced as github.get_issue outputs it, and its action.
 * https://docs.github.com/webhooks/webhook-events-and-payloads#issues
 */
export const issueEvent = defineBlock<{ payload: Record<string, unknown> }>(async function* ({ payload }) {
  const p = payload as IssuesEventPayload;
  if (typeof p.action !== 'string' || !p.issue || typeof p.issue !== 'object') {
    throw new ActionError('the payload is not a GitHub issues event: it needs `action` and `issue`');
  }
  const event: IssueEvent = {
    action: p.action,
    issue: toIssue(p.issue as GitHubIssue),
    repository: p.repository?.full_name ?? null,
    sender: p.sender?.login ?? null,
  };
  if (p.label?.name) event.label = p.label.name;
  if (p.assignee?.login) event.assignee = p.assignee.login;
  yield ['event', event];
  yield ['action', p.action];
});
