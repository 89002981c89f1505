import { expect } from 'chai';
import { listIssues, MY_ISSUES_QUERY, PAGE_SIZE, TEAM_ISSUES_QUERY, type ListedIssue } from './list-issues.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const issueFixture = (n: number): ListedIssue => ({
  id: `issue-${n}`,
  identifier: `ENG-${n}`,
  title: `Issue ${n}`,
  description: null,
  priority: 0,
  priorityLabel: 'No priority',
  url: `https://linear.app/acme/issue/ENG-${n}`,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  state: { id: 's', name: 'Todo', type: 'unstarted' },
  assignee: null,
  team: { id: 'team-1', key: 'ENG', name: 'Engineering' },
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => issueFixture(from + i));
const teamPage = (nodes: ListedIssue[], endCursor: string | null, hasNextPage = endCursor !== null) => ({ data: { data: { team: { issues: { nodes, pageInfo: { hasNextPage, endCursor } } } } } });
const sent = (call: { request: { json?: unknown } }) => call.request.json as { query: string; variables: Record<string, unknown> };

describe('linear.list_issues', () => {
  it('queries the team’s issues and yields each issue, then all of them', async () => {
    const mock = fetchMock(teamPage(range(1, 2), null));
    const result = await run(listIssues, { teamId: 'team-1', assignedToMe: false, first: 50 }, contextFixture(mock.fetch));
    expect(result.error).to.equal(null);
    expect(result.outputs).to.deep.equal([['issue', issueFixture(1)], ['issue', issueFixture(2)], ['issues', range(1, 2)]]);
    expect(mock.calls[0]).to.deep.include({ url: '/graphql', method: 'POST' });
    expect(sent(mock.calls[0]!)).to.deep.equal({ query: TEAM_ISSUES_QUERY, variables: { teamId: 'team-1', first: 50, after: null } });
    expect(TEAM_ISSUES_QUERY).to.match(/team\(id: \$teamId\)\s*\{\s*issues\(first: \$first, after: \$after, filter: \$filter\)/);
    expect(mock.calls[0]!.request.retry).to.equal(true);
  });

  it('filters the team’s issues to the viewer’s with assignedToMe', async () => {
    const mock = fetchMock(teamPage([], null));
    await run(listIssues, { teamId: 'team-1', assignedToMe: true, first: 10 }, contextFixture(mock.fetch));
    expect(sent(mock.calls[0]!).variables).to.deep.equal({ teamId: 'team-1', first: 10, after: null, filter: { assignee: { isMe: { eq: true } } } });
  });

  it('without teamId, lists the issues assigned to the viewer', async () => {
    const mock = fetchMock({ data: { data: { viewer: { assignedIssues: { nodes: range(1, 1), pageInfo: { hasNextPage: false, endCursor: 'c' } } } } } });
    const result = await run(listIssues, { assignedToMe: false, first: 5 }, contextFixture(mock.fetch));
    expect(sent(mock.calls[0]!)).to.deep.equal({ query: MY_ISSUES_QUERY, variables: { first: 5, after: null } });
    expect(MY_ISSUES_QUERY).to.match(/viewer\s*\{\s*assignedIssues\(first: \$first, after: \$after\)/);
    expect(byName(result.outputs)).to.deep.equal({ issue: range(1, 1), issues: [range(1, 1)] });
  });

  it(`follows endCursor in pages of at most ${PAGE_SIZE} until it has first issues`, async () => {
    const mock = fetchMock(teamPage(range(1, 100), 'c100'), teamPage(range(101, 200), 'c200'), teamPage(range(201, 250), 'c250'));
    const result = await run(listIssues, { teamId: 'team-1', assignedToMe: false, first: 250 }, contextFixture(mock.fetch));
    expect(mock.calls.map((c) => sent(c).variables)).to.deep.equal([
      { teamId: 'team-1', first: 100, after: null },
      { teamId: 'team-1', first: 100, after: 'c100' },
      { teamId: 'team-1', first: 50, after: 'c200' },
    ]);
    const outputs = byName(result.outputs);
    expect(outputs.issue).to.have.length(250);
    expect(outputs.issues).to.deep.equal([range(1, 250)]);
  });

  it('stops when Linear has no next page, with fewer issues than asked', async () => {
    const mock = fetchMock(teamPage(range(1, 100), 'c100'), teamPage(range(101, 120), 'c120', false));
    const result = await run(listIssues, { teamId: 'team-1', assignedToMe: false, first: 500 }, contextFixture(mock.fetch));
    expect(mock.calls).to.have.length(2);
    expect(byName(result.outputs).issues).to.deep.equal([range(1, 120)]);
  });

  it('never yields more than first, even when a page has more', async () => {
    const mock = fetchMock(teamPage(range(1, 5), 'c5'));
    const result = await run(listIssues, { teamId: 'team-1', assignedToMe: false, first: 3 }, contextFixture(mock.fetch));
    expect(byName(result.outputs).issues).to.deep.equal([range(1, 3)]);
  });

  it('yields the issues of earlier pages before a later page fails', async () => {
    const mock = fetchMock(teamPage(range(1, 100), 'c100'), { status: 429, headers: { 'retry-after': '5' }, data: { errors: [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited' } }] } });
    const result = await run(listIssues, { teamId: 'team-1', assignedToMe: false, first: 150 }, contextFixture(mock.fetch));
    expect(result.error).to.equal('Linear: rate limited; retry after 5 s');
    expect(byName(result.outputs).issue).to.have.length(100);
    expect(byName(result.outputs).issues).to.equal(undefined);
  });

  it('fails with not found when the team is null', async () => {
    const mock = fetchMock({ data: { data: { team: null } } });
    expect((await run(listIssues, { teamId: 'nope', assignedToMe: false, first: 5 }, contextFixture(mock.fetch))).error).to.equal('Linear: not found: team nope');
  });

  it('fails with Linear’s message for an unknown team', async () => {
    const mock = fetchMock({ status: 200, data: { data: null, errors: [{ message: 'Entity not found: Team', extensions: { type: 'invalid input', userPresentableMessage: 'Could not find referenced Team.' } }] } });
    expect((await run(listIssues, { teamId: 'nope', assignedToMe: false, first: 5 }, contextFixture(mock.fetch))).error).to.equal('Linear: not found: Could not find referenced Team.');
  });

  it('fails with credential rejected on 401', async () => {
    const mock = fetchMock({ status: 401, data: { errors: [{ message: 'Authentication required, not authenticated', extensions: { type: 'authentication error' } }] } });
    expect((await run(listIssues, { assignedToMe: false, first: 5 }, contextFixture(mock.fetch))).error).to.equal('Linear: credential rejected: Authentication required, not authenticated');
  });
});
