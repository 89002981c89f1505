// @blockyard/plugin-github: the entry point blockyard.plugin.json names.
import type { PluginHandlers, WebhookManager } from '@blockyard/plugin-sdk';
import { gitHubWebhooks } from './github-webhooks.js';
import { createIssue, getIssue, issueEvent } from './issues.js';
import { listRepositories } from './repositories.js';

export { GITHUB_HEADERS, githubError } from './github-api.js';
export { gitHubEvents, gitHubWebhooks, verifyGitHubSignature } from './github-webhooks.js';
export { createIssue, getIssue, issueEvent, toIssue, type Issue, type IssueEvent } from './issues.js';
export { listRepositories, nextPage, toRepository, type Repository } from './repositories.js';

export const handlers: PluginHandlers = {
  'github.create_issue': createIssue,
  'github.get_issue': getIssue,
  'github.list_repositories': listRepositories,
  'github.issue_event': issueEvent,
};

export const webhooks: Record<string, WebhookManager> = {
  github: gitHubWebhooks,
};
