import { ActionError, defineBlock } from '@blockyard/plugin-sdk';
import { linearGraphql } from './linear-graphql.js';

export interface ListIssuesInputs {
  /** The team whose issues to list; without it, the issues assigned to the credential's user. */
  teamId?: string;
  /** With teamId: only the team's issues assigned to the credential's user. */
  assignedToMe: boolean;
  /** How many issues at most. */
  first: number;
}

/** An issue as linear.list_issues yields it. */
export interface ListedIssue {
  id: string;
  identifier: string;
  title: string;
  description: string | null;
  priority: number;
  priorityLabel: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  state: { id: string; name: string; type: string } | null;
  assignee: { id: string; name: string } | null;
  team: { id: string; key: string; name: string } | null;
}

interface IssueConnection {
  nodes: ListedIssue[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Issues asked for per request: Linear allows up to 250, fewer keeps each query's complexity low. */
export const PAGE_SIZE = 100;

const ISSUE_FIELDS = `nodes {
      id identifier title description priority priorityLabel url createdAt updatedAt
      state { id name type }
      assignee { id name }
      team { id key name }
    }
    pageInfo { hasNextPage endCursor }`;

export const TEAM_ISSUES_QUERY = `query TeamIssues($teamId: String!, $first: Int!, $after: String, $filter: IssueFilter) {
  team(id: $teamId) {
    issues(first: $first, after: $after, filter: $filter) {
    ${ISSUE_FIELDS}
    }
  }
}`;

export const MY_ISSUES_QUERY = `query MyIssues($first: Int!, $after: String) {
  viewer {
    assignedIssues(first: $first, after: $after) {
    ${ISSUE_FIELDS}
    }
  }
}`;

/**
 * linear.list_issues: the first `first` issues of a team (optionally only those assigned to the
 * credential's user), or, without teamId, the issues assigned to the credential's user. Follows
 * Linear's cursor pagination; yields each `issue` as its page arrives, then all as `issues`.
 */
export const listIssues = defineBlock<ListIssuesInputs>(async function* (inputs, context) {
  const limit = inputs.first ?? 50;
  const issues: ListedIssue[] = [];
  let after: string | null = null;
  do {
    const first = Math.min(PAGE_SIZE, limit - issues.length);
    const page: IssueConnection = inputs.teamId === undefined ? await myIssues(first, after) : await teamIssues(inputs.teamId, first, after);
    for (const issue of page.nodes.slice(0, limit - issues.length)) {
      issues.push(issue);
      yield ['issue', issue];
    }
    after = page.pageInfo?.hasNextPage && page.pageInfo.endCursor ? page.pageInfo.endCursor : null;
  } while (after !== null && issues.length < limit);
  yield ['issues', issues];

  async function teamIssues(teamId: string, first: number, after: string | null): Promise<IssueConnection> {
    const variables: Record<string, unknown> = { teamId, first, after };
    if (inputs.assignedToMe) variables.filter = { assignee: { isMe: { eq: true } } };
    const data = await linearGraphql<{ team: { issues: IssueConnection } | null }>(context, TEAM_ISSUES_QUERY, variables, { retry: true });
    if (!data.team) throw new ActionError(`Linear: not found: team ${teamId}`);
    return data.team.issues;
  }

  async function myIssues(first: number, after: string | null): Promise<IssueConnection> {
    const data = await linearGraphql<{ viewer: { assignedIssues: IssueConnection } }>(context, MY_ISSUES_QUERY, { first, after }, { retry: true });
    return data.viewer.assignedIssues;
  }
});
