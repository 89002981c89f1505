import type { PluginHandlers } from '@blockyard/plugin-sdk';
import { createIssue } from './create-issue.js';
import { listIssues } from './list-issues.js';

export { createIssue, ISSUE_CREATE_MUTATION, type CreatedIssue, type CreateIssueInputs } from './create-issue.js';
export { listIssues, MY_ISSUES_QUERY, PAGE_SIZE, TEAM_ISSUES_QUERY, type ListedIssue, type ListIssuesInputs } from './list-issues.js';
export { linearError, linearGraphql, retryAfterSeconds, type LinearGraphqlError } from './linear-graphql.js';

export const handlers: PluginHandlers = {
  'linear.create_issue': createIssue,
  'linear.list_issues': listIssues,
};
