import { ActionError, defineBlock } from '@blockyard/plugin-sdk';
import { linearGraphql } from './linear-graphql.js';

export interface CreateIssueInputs {
  teamId: string;
  title: string;
  /** Markdown. */
  description?: string;
  /** 0 none, 1 urgent, 2 high, 3 medium, 4 low. */
  priority?: number;
}

/** The issue as linear.create_issue yields it. */
export interface CreatedIssue {
  id: string;
  identifier: string;
  title: string;
  url: string;
}

export const ISSUE_CREATE_MUTATION = `mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) {
    success
    issue { id identifier title url }
  }
}`;

/** linear.create_issue: creates an issue in a team and yields it as `issue`. */
export const createIssue = defineBlock<CreateIssueInputs>(async function* (inputs, context) {
  const input: Record<string, unknown> = { teamId: inputs.teamId, title: inputs.title };
  if (inputs.description !== undefined) input.description = inputs.description;
  if (inputs.priority !== undefined) input.priority = inputs.priority;
  const data = await linearGraphql<{ issueCreate?: { success?: boolean; issue?: CreatedIssue | null } | null }>(context, ISSUE_CREATE_MUTATION, { input });
  const issue = data.issueCreate?.issue;
  if (!data.issueCreate?.success || !issue) throw new ActionError('Linear: the issue was not created (issueCreate answered success: false)');
  yield ['issue', { id: issue.id, identifier: issue.identifier, title: issue.title, url: issue.url }];
});
