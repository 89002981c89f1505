import { expect } from 'chai';
import { listRepositories, nextPage } from './repositories.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

function repositoryFixture(id: number, name: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    node_id: `R_${id}`,
    name,
    full_name: `octo/${name}`,
    owner: { login: 'octo', id: 9 },
    private: false,
    html_url: `https://github.com/octo/${name}`,
    description: null,
    fork: false,
    default_branch: 'main',
    visibility: 'public',
    archived: false,
    updated_at: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

describe('github repositories', () => {
  describe('github.list_repositories', () => {
    it('GETs /user/repos with its paging and filters, and streams each repository then the list', async () => {
      const mock = fetchMock({
        status: 200,
        headers: { link: '<https://api.github.com/user/repos?per_page=2&page=3>; rel="next", <https://api.github.com/user/repos?per_page=2&page=9>; rel="last"' },
        data: [repositoryFixture(1, 'one'), repositoryFixture(2, 'two', { private: true, visibility: 'private', description: 'secret stuff', fork: true })],
      });
      const result = await run(listRepositories, { per_page: 2, page: 2, visibility: 'all', sort: 'updated' }, contextFixture(mock.fetch));
      expect(result.error).to.equal(null);
      expect(mock.calls).to.have.length(1);
      expect(mock.calls[0]!.method).to.equal('GET');
      expect(mock.calls[0]!.url).to.equal('/user/repos');
      expect(mock.calls[0]!.request.query).to.deep.equal({ per_page: 2, page: 2, visibility: 'all', sort: 'updated' });
      expect(mock.calls[0]!.request.headers).to.include({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
      const one = { id: 1, name: 'one', full_name: 'octo/one', owner: 'octo', private: false, visibility: 'public', description: null, html_url: 'https://github.com/octo/one', default_branch: 'main', fork: false, archived: false, updated_at: '2024-01-01T00:00:00Z' };
      const two = { ...one, id: 2, name: 'two', full_name: 'octo/two', private: true, visibility: 'private', description: 'secret stuff', html_url: 'https://github.com/octo/two', fork: true };
      expect(result.outputs.map(([name]) => name)).to.deep.equal(['repository', 'repository', 'repositories', 'next_page']);
      expect(byName(result.outputs)).to.deep.equal({ repository: [one, two], repositories: [[one, two]], next_page: [3] });
    });

    it('yields an empty list and no next_page on the last page', async () => {
      const mock = fetchMock({ status: 200, headers: { link: '<https://api.github.com/user/repos?page=1>; rel="first", <https://api.github.com/user/repos?page=1>; rel="prev"' }, data: [] });
      const result = await run(listRepositories, { per_page: 30, page: 2 }, contextFixture(mock.fetch));
      expect(result.outputs).to.deep.equal([['repositories', []]]);
      expect(mock.calls[0]!.request.query).to.deep.equal({ per_page: 30, page: 2, visibility: undefined, sort: undefined });
    });

    it('infers visibility from `private` when GitHub leaves it out', async () => {
      const { visibility: _omit, ...bare } = repositoryFixture(3, 'old', { private: true });
      const mock = fetchMock({ status: 200, data: [bare] });
      const result = await run(listRepositories, { per_page: 30, page: 1 }, contextFixture(mock.fetch));
      expect((byName(result.outputs).repository![0] as { visibility: string }).visibility).to.equal('private');
    });

    it('fails on 401 with GitHub message', async () => {
      const mock = fetchMock({ status: 401, data: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });
      const result = await run(listRepositories, { per_page: 30, page: 1 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub rejected the credential (401): Bad credentials');
    });

    it('fails on 429 saying how long to wait', async () => {
      const mock = fetchMock({ status: 429, headers: { 'retry-after': '7' }, data: { message: 'Too many requests' } });
      const result = await run(listRepositories, { per_page: 30, page: 1 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub rate limited the request (429): Too many requests; retry after 7 s');
    });

    it('fails clearly when the body is not a list', async () => {
      const mock = fetchMock({ status: 200, data: { message: 'surprise' } });
      const result = await run(listRepositories, { per_page: 30, page: 1 }, contextFixture(mock.fetch));
      expect(result.error).to.equal('GitHub answered 200 without a list of repositories in its body');
    });
  });

  describe('nextPage', () => {
    it('reads the page of rel="next"', () => {
      expect(nextPage('<https://api.github.com/user/repos?page=2&per_page=5>; rel="next", <https://api.github.com/user/repos?page=7&per_page=5>; rel="last"')).to.equal(2);
    });

    it('is null without a next link, or without a header', () => {
      expect(nextPage('<https://api.github.com/user/repos?page=1>; rel="prev"')).to.equal(null);
      expect(nextPage(undefined)).to.equal(null);
      expect(nextPage('garbage')).to.equal(null);
    });
  });
});
