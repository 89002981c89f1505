import { expect } from 'chai';
import { createIssue, ISSUE_CREATE_MUTATION } from './create-issue.js';
import { contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const created = { id: 'issue-1', identifier: 'ENG-1', title: 'Checkout fails', url: 'https://linear.app/acme/issue/ENG-1/checkout-fails' };

describe('linear.create_issue', () => {
  it('sends the issueCreate mutation with the input as variables and yields the issue', async () => {
    const mock = fetchMock({ data: { data: { issueCreate: { success: true, issue: { ...created, extra: 'dropped' } } } } });
    const result = await run(createIssue, { teamId: 'team-1', title: 'Checkout fails', description: '**Steps**', priority: 1 }, contextFixture(mock.fetch));
    expect(result).to.deep.equal({ outputs: [['issue', created]], error: null });
    expect(mock.calls).to.have.length(1);
    expect(mock.calls[0]).to.deep.include({ url: '/graphql', method: 'POST' });
    const body = mock.calls[0]!.request.json as { query: string; variables: unknown };
    expect(body.query).to.equal(ISSUE_CREATE_MUTATION);
    expect(body.query).to.match(/issueCreate\(input: \$input\)\s*\{\s*success\s+issue \{ id identifier title url \}/);
    expect(body.variables).to.deep.equal({ input: { teamId: 'team-1', title: 'Checkout fails', description: '**Steps**', priority: 1 } });
  });

  it('leaves out description and priority when not given; keeps priority 0', async () => {
    const mock = fetchMock({ data: { data: { issueCreate: { success: true, issue: created } } } }, { data: { data: { issueCreate: { success: true, issue: created } } } });
    await run(createIssue, { teamId: 'team-1', title: 'T' }, contextFixture(mock.fetch));
    await run(createIssue, { teamId: 'team-1', title: 'T', priority: 0 }, contextFixture(mock.fetch));
    expect(mock.calls.map((c) => (c.request.json as { variables: unknown }).variables)).to.deep.equal([{ input: { teamId: 'team-1', title: 'T' } }, { input: { teamId: 'team-1', title: 'T', priority: 0 } }]);
  });

  it('does not ask for retries: a mutation must not be sent twice', async () => {
    const mock = fetchMock({ data: { data: { issueCreate: { success: true, issue: created } } } });
    await run(createIssue, { teamId: 'team-1', title: 'T' }, contextFixture(mock.fetch));
    expect(mock.calls[0]!.request.retry).to.equal(undefined);
  });

  it('fails when issueCreate answers success: false', async () => {
    const mock = fetchMock({ data: { data: { issueCreate: { success: false, issue: null } } } });
    expect((await run(createIssue, { teamId: 'team-1', title: 'T' }, contextFixture(mock.fetch))).error).to.equal('Linear: the issue was not created (issueCreate answered success: false)');
  });

  const errorCases: Array<[string, { status: number; headers?: Record<string, string>; data: unknown }, string]> = [
    ['401', { status: 401, data: { errors: [{ message: 'Authentication required, not authenticated', extensions: { type: 'authentication error', userPresentableMessage: 'You need to authenticate to access this operation.' } }] } }, 'Linear: credential rejected: You need to authenticate to access this operation.'],
    ['unknown team', { status: 200, data: { data: null, errors: [{ message: 'Entity not found: Team', extensions: { type: 'invalid input', userPresentableMessage: 'Could not find referenced Team.' } }] } }, 'Linear: not found: Could not find referenced Team.'],
    ['400 validation', { status: 400, data: { errors: [{ message: 'Argument Validation Error', extensions: { type: 'invalid input', userPresentableMessage: 'priority must not be greater than 4' } }] } }, 'Linear: invalid request: priority must not be greater than 4'],
    ['429', { status: 429, headers: { 'Retry-After': '60' }, data: { errors: [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited', code: 'RATELIMITED' } }] } }, 'Linear: rate limited; retry after 60 s'],
  ];
  for (const [name, response, message] of errorCases) {
    it(`fails on ${name}: ${message}`, async () => {
      const mock = fetchMock(response);
      expect(await run(createIssue, { teamId: 'team-1', title: 'T' }, contextFixture(mock.fetch))).to.deep.equal({ outputs: [], error: message });
    });
  }
});
