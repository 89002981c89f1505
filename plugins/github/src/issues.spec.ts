import { expect } from 'chai';
import { createIssue, getIssue, issueEvent } from './issues.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const issueFixture = {
  id: 1,
  url: 'https://api.github.com/repos/octo/hello/issues/12',
  html_url: 'https://github.com/octo/hello/issues/12',
  number: 12,
  state: 'open',
  state_reason: null,
  title: 'Crash on start',
  body: 'Steps: run it.',
  user: { login: 'octo', id: 9 },
  labels: [{ id: 1, name: 'bug', color: 'f29513' }],
  assignee: { login: 'hubot', id: 2 },
  assignees: [{ login: 'hubot', id: 2 }],
  comments: 2,
  created_at: '2024-05-01T10:00:00Z',
  updated_at: '2024-05-02T10:00:00Z',
  closed_at: null,
};

const issueOutput = {
  number: 12,
  url: 'https://api.github.com/repos/octo/hello/issues/12',
  html_url: 'https://github.com/octo/hello/issues/12',
  title: 'Crash on start',
  state: 'open',
  state_reason: null,
  body: 'Steps: run it.',
  labels: ['bug'],
  assignees: ['hubot'],
  author: 'octo',
  comments: 2,
  is_pull_request: false,
  created_at: '2024-05-01T10:00:00Z',
  updated_at: '2024-05-02T10:00:00Z',
  closed_at: null,
};

const GITHUB_JSON = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };

describe('github issues', () => {
  describe('github.create_issue', () => {
    it('POSTs the issue to /repos/{owner}/{repo}/issues with GitHub headers and yields it', async () => {
      const mock = fetchMock({ status: 201, data: issueFixture });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 'Crash on start', body: 'Steps: run it.', labels: ['bug'], assignees: ['hubot'] }, contextFixture(mock.fetch));
      expect(result.error).to.equal(null);
      expect(mock.calls).to.have.length(1);
      const [call] = mock.calls;
      expect(call!.method).to.equal('POST');
      expect(call!.url).to.equal('/repos/octo/hello/issues');
      expect(call!.request.json).to.deep.equal({ title: 'Crash on start', body: 'Steps: run it.', labels: ['bug'], assignees: ['hubot'] });
      expect(call!.request.headers).to.deep.equal(GITHUB_JSON);
      expect(result.outputs).to.deep.equal([['issue', issueOutput]]);
    });

    it('sends only the fields it was given', async () => {
      const mock = fetchMock({ status: 201, data: issueFixture });
      await run(createIssue, { owner: 'octo', repo: 'hello', title: 'Only a title' }, contextFixture(mock.fetch));
      expect(mock.calls[0]!.request.json).to.deep.equal({ title: 'Only a title' });
    });

    it('escapes owner and repo in the path', async () => {
      const mock = fetchMock({ status: 201, data: issueFixture });
      await run(createIssue, { owner: 'a b', repo: 'c/d', title: 't' }, contextFixture(mock.fetch));
      expect(mock.calls[0]!.url).to.equal('/repos/a%20b/c%2Fd/issues');
    });

    it('fails on 401 with GitHub message, and never with the credential', async () => {
      const mock = fetchMock({ status: 401, data: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch, { credentials: { kind: 'api_key', api_key: 'ghp_secret123' } }));
      expect(result.error).to.equal('GitHub rejected the credential (401): Bad credentials');
      expect(result.error).not.to.contain('ghp_secret123');
      expect(result.outputs).to.deep.equal([]);
    });

    it('names the repository on 404', async () => {
      const mock = fetchMock({ status: 404, data: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue' } });
      const result = await run(createIssue, { owner: 'octo', repo: 'nope', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub: repository octo/nope not found (404), or the credential cannot see it');
    });

    it('lists each validation error of a 422', async () => {
      const mock = fetchMock({
        status: 422,
        data: {
          message: 'Validation Failed',
          errors: [
            { resource: 'Issue', field: 'title', code: 'missing_field' },
            { value: 'ghost', resource: 'Issue', field: 'assignees', code: 'invalid' },
            { resource: 'Issue', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' },
            'labels must be strings',
          ],
          documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue',
        },
      });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 'x' }, contextFixture(mock.fetch));
      expect(result.error).to.equal(
        'GitHub rejected the request (422): Validation Failed (title is required; assignees "ghost" is invalid; body: body is too long (maximum is 65536 characters); labels must be strings)',
      );
    });

    it('says how long to wait on 429 with Retry-After', async () => {
      const mock = fetchMock({ status: 429, headers: { 'Retry-After': '30' }, data: { message: 'You have exceeded a secondary rate limit.' } });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub rate limited the request (429): You have exceeded a secondary rate limit.; retry after 30 s');
    });

    it('treats 403 with x-ratelimit-remaining 0 as a rate limit, waiting until x-ratelimit-reset', async () => {
      const reset = Math.floor(Date.now() / 1000) + 120;
      const mock = fetchMock({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, data: { message: 'API rate limit exceeded for user ID 9.' } });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.match(/^GitHub rate limited the request \(403\): API rate limit exceeded for user ID 9\.; retry after (119|120|121) s$/);
    });

    it('treats any other 403 as missing permission', async () => {
      const mock = fetchMock({ status: 403, headers: { 'x-ratelimit-remaining': '4999' }, data: { message: 'Resource not accessible by personal access token' } });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.equal(
        "GitHub refused access to repository octo/hello (403): Resource not accessible by personal access token; check the credential's scopes and permissions",
      );
    });

    it('reports a server error with its status', async () => {
      const mock = fetchMock({ status: 502, data: 'Bad Gateway' });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub answered 502: Bad Gateway');
    });

    it('fails clearly when a success has no issue in its body', async () => {
      const mock = fetchMock({ status: 201, data: '' });
      const result = await run(createIssue, { owner: 'octo', repo: 'hello', title: 't' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub answered 201 without the created issue in its body');
    });
  });

  describe('github.get_issue', () => {
    it('GETs /repos/{owner}/{repo}/issues/{n} and yields the issue', async () => {
      const mock = fetchMock({ status: 200, data: { ...issueFixture, pull_request: { url: 'https://api.github.com/repos/octo/hello/pulls/12' } } });
      const result = await run(getIssue, { owner: 'octo', repo: 'hello', issue_number: 12 }, contextFixture(mock.fetch));
      expect(mock.calls.map((c) => [c.method, c.url])).to.deep.equal([['GET', '/repos/octo/hello/issues/12']]);
      expect(mock.calls[0]!.request.headers).to.deep.equal(GITHUB_JSON);
      expect(byName(result.outputs)).to.deep.equal({ issue: [{ ...issueOutput, is_pull_request: true }] });
    });

    it('names the issue on 404', async () => {
      const mock = fetchMock({ status: 404, data: { message: 'Not Found' } });
      const result = await run(getIssue, { owner: 'octo', repo: 'hello', issue_number: 99 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub: issue octo/hello#99 not found (404), or the credential cannot see it');
    });

    it('says a deleted issue is gone on 410', async () => {
      const mock = fetchMock({ status: 410, data: { message: 'This issue was deleted' } });
      const result = await run(getIssue, { owner: 'octo', repo: 'hello', issue_number: 3 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub: issue octo/hello#3 is gone (410): This issue was deleted');
    });

    it('falls back to 60 s for a rate limit without headers', async () => {
      const mock = fetchMock({ status: 403, data: { message: 'You have exceeded a secondary rate limit' } });
      const result = await run(getIssue, { owner: 'octo', repo: 'hello', issue_number: 3 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub rate limited the request (403): You have exceeded a secondary rate limit; retry after 60 s');
    });
  });

  describe('github.issue_event', () => {
    it('yields the event with its issue, repository, sender, label, and its action', async () => {
      const payload = {
        action: 'labeled',
        issue: issueFixture,
        label: { id: 1, name: 'bug' },
        repository: { id: 5, full_name: 'octo/hello' },
        sender: { login: 'hubot' },
      };
      const result = await run(issueEvent, { payload }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(result.outputs).to.deep.equal([
        ['event', { action: 'labeled', issue: issueOutput, repository: 'octo/hello', sender: 'hubot', label: 'bug' }],
        ['action', 'labeled'],
      ]);
    });

    it('carries the assignee of an assigned event', async () => {
      const payload = { action: 'assigned', issue: issueFixture, assignee: { login: 'hubot' }, repository: { full_name: 'octo/hello' }, sender: { login: 'octo' } };
      const result = await run(issueEvent, { payload }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect((byName(result.outputs).event![0] as { assignee?: string }).assignee).to.equal('hubot');
    });

    it('fails on a payload that is not an issues event', async () => {
      const result = await run(issueEvent, { payload: { zen: 'Design for failure.', hook_id: 1 } }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(result.error).to.equal('the payload is not a GitHub issues event: it needs `action` and `issue`');
    });
  });
});
