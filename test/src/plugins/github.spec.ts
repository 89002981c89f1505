import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PluginManifest } from '@blockyard/contracts';
import { InMemoryBlockRegistry, ProviderRegistry } from '@blockyard/core';
import { NodeOutboundHttp } from '@blockyard/http-outbound';
import { loadPlugins } from '@blockyard/plugin-loader';
import { runPluginBlock } from '../support/plugin-harness.js';
import { ROOT } from '../support/paths.js';
import { startGitHubApi, type GitHubApiStandIn } from '../support/stand-ins/github-api.js';

const PLUGIN = '@blockyard/plugin-github';

describe('github plugin on the platform', () => {
  let api: GitHubApiStandIn;

  beforeEach(async () => {
    api = await startGitHubApi();
  });

  afterEach(async () => {
    await api.close();
  });

  const run = (blockId: string, inputs: Record<string, unknown>, options: { token?: string } = {}) =>
    runPluginBlock({ plugin: PLUGIN, blockId, inputs, credential: { kind: 'api_key', api_key: options.token ?? 'test-token' }, baseUrl: api.url });

  describe('github.create_issue', () => {
    it('creates the issue with the injected token and GitHub headers, and outputs it', async () => {
      const outcome = await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 'Crash on start', body: 'Run it and see.', labels: ['bug'], assignees: ['hubot'] });
      expect(outcome.error).to.equal(null);
      expect(outcome.status).to.equal('completed');
      const issue = outcome.outputs.issue![0] as Record<string, unknown>;
      expect(issue).to.include({ number: 1, title: 'Crash on start', state: 'open', body: 'Run it and see.', author: 'octo', html_url: 'https://github.com/octo/hello-world/issues/1', is_pull_request: false });
      expect(issue.url).to.equal(`${api.url}/repos/octo/hello-world/issues/1`);
      expect(issue.labels).to.deep.equal(['bug']);
      expect(issue.assignees).to.deep.equal(['hubot']);

      expect(api.requests).to.have.length(1);
      const [request] = api.requests;
      expect(request!.method).to.equal('POST');
      expect(request!.path).to.equal('/repos/octo/hello-world/issues');
      expect(request!.headers.authorization).to.equal('Bearer test-token');
      expect(request!.headers.accept).to.equal('application/vnd.github+json');
      expect(request!.headers['x-github-api-version']).to.equal('2022-11-28');
      expect(request!.headers['content-type']).to.match(/^application\/json/);
      expect(request!.body).to.deep.equal({ title: 'Crash on start', body: 'Run it and see.', labels: ['bug'], assignees: ['hubot'] });
      expect(api.repositories.get('octo/hello-world')!.issues).to.have.length(1);
    });

    it('fails with "Bad credentials" for a wrong token, without showing it', async () => {
      const outcome = await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 't' }, { token: 'ghp_wrong_token' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub rejected the credential (401): Bad credentials');
      expect(JSON.stringify(outcome)).not.to.contain('ghp_wrong_token');
      expect(api.repositories.get('octo/hello-world')!.issues).to.have.length(0);
    });

    it('says the repository is not found', async () => {
      const outcome = await run('github.create_issue', { owner: 'octo', repo: 'nope', title: 't' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub: repository octo/nope not found (404), or the credential cannot see it');
    });

    it("names GitHub's validation errors (422)", async () => {
      const outcome = await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 't', assignees: ['ghost'] });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub rejected the request (422): Validation Failed (assignees "ghost" is invalid)');
    });

    it('refuses invalid inputs before calling GitHub', async () => {
      const missingTitle = await run('github.create_issue', { owner: 'octo', repo: 'hello-world' });
      expect(missingTitle.status).to.equal('failed');
      expect(missingTitle.error).to.contain('invalid inputs for block github.create_issue');
      expect(missingTitle.error).to.contain('title');
      const traversal = await run('github.create_issue', { owner: 'octo', repo: '..', title: 't' });
      expect(traversal.status).to.equal('failed');
      expect(traversal.error).to.contain('/repo');
      expect(api.requests).to.have.length(0);
    });

    it('does not retry a rate-limited POST, and says when to retry', async () => {
      const reset = Math.floor(Date.now() / 1000) + 90;
      api.failNext({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' } });
      const outcome = await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 't' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.match(/^GitHub rate limited the request \(403\): API rate limit exceeded for user ID 1\.; retry after (8[89]|9[01]) s$/);
      expect(api.requests).to.have.length(1);
    });
  });

  describe('github.get_issue', () => {
    it('reads back an issue', async () => {
      await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 'First' });
      await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 'Second', labels: ['docs'] });
      const outcome = await run('github.get_issue', { owner: 'octo', repo: 'hello-world', issue_number: 2 });
      expect(outcome.status).to.equal('completed');
      expect(outcome.outputs.issue).to.have.length(1);
      expect(outcome.outputs.issue![0]).to.include({ number: 2, title: 'Second', state: 'open' });
      expect((outcome.outputs.issue![0] as { labels: string[] }).labels).to.deep.equal(['docs']);
      expect(api.requests.at(-1)).to.include({ method: 'GET', path: '/repos/octo/hello-world/issues/2' });
    });

    it('says the issue is not found', async () => {
      const outcome = await run('github.get_issue', { owner: 'octo', repo: 'hello-world', issue_number: 42 });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub: issue octo/hello-world#42 not found (404), or the credential cannot see it');
    });
  });

  describe('github.list_repositories', () => {
    it('streams one page of repositories and points at the next', async () => {
      const outcome = await run('github.list_repositories', { per_page: 2 });
      expect(outcome.error).to.equal(null);
      const names = (outcome.outputs.repository as Array<{ full_name: string }>).map((r) => r.full_name);
      expect(names).to.deep.equal(['octo/hello-world', 'octo/old-stuff']);
      expect(outcome.outputs.repositories).to.deep.equal([outcome.outputs.repository]);
      expect(outcome.outputs.next_page).to.deep.equal([2]);
      expect(api.requests[0]!.path).to.equal('/user/repos');
      expect(api.requests[0]!.query).to.deep.equal({ per_page: '2', page: '1' });
      expect(api.requests[0]!.headers.authorization).to.equal('Bearer test-token');
    });

    it('reads the last page, filtered by visibility', async () => {
      const outcome = await run('github.list_repositories', { per_page: 1, page: 2, visibility: 'private' });
      expect(outcome.status).to.equal('completed');
      expect(outcome.outputs.repository).to.deep.equal([
        {
          id: 5,
          name: 'zeta',
          full_name: 'octo/zeta',
          owner: 'octo',
          private: true,
          visibility: 'private',
          description: null,
          html_url: 'https://github.com/octo/zeta',
          default_branch: 'main',
          fork: false,
          archived: false,
          updated_at: '2024-06-01T00:00:00Z',
        },
      ]);
      expect(outcome.outputs.next_page).to.equal(undefined);
      expect(api.requests[0]!.query).to.deep.equal({ per_page: '1', page: '2', visibility: 'private' });
    });

    it('completes when the platform retries past one 429 (GET is idempotent)', async () => {
      api.failNext({ status: 429, headers: { 'retry-after': '0' }, body: { message: 'You have exceeded a secondary rate limit.' } });
      const outcome = await run('github.list_repositories', {});
      expect(outcome.status).to.equal('completed');
      expect(outcome.outputs.repositories![0]).to.have.length(5);
      expect(api.requests).to.have.length(2);
    });

    it('fails saying when to retry once the retries are spent', async () => {
      const limited = { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit.', documentation_url: 'https://docs.github.com/rest' } };
      api.failNext(limited, limited, limited, limited);
      const outcome = await run('github.list_repositories', {});
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub rate limited the request (429): You have exceeded a secondary rate limit.; retry after 1 s');
      expect(api.requests).to.have.length(4);
    });

    it('fails with "Bad credentials" for a wrong token', async () => {
      const outcome = await run('github.list_repositories', {}, { token: 'expired-token' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('GitHub rejected the credential (401): Bad credentials');
      expect(api.requests[0]!.headers.authorization).to.equal('Bearer expired-token');
    });
  });

  describe('github.issue_event', () => {
    it('outputs the event of an issues webhook payload', async () => {
      await run('github.create_issue', { owner: 'octo', repo: 'hello-world', title: 'Webhooked' });
      const issue = api.repositories.get('octo/hello-world')!.issues[0];
      const payload = { action: 'opened', issue, repository: { id: 1, full_name: 'octo/hello-world' }, sender: { login: 'octo' } };
      const outcome = await run('github.issue_event', { payload });
      expect(outcome.error).to.equal(null);
      expect(outcome.outputs.action).to.deep.equal(['opened']);
      expect(outcome.outputs.event![0]).to.deep.include({ action: 'opened', repository: 'octo/hello-world', sender: 'octo' });
      expect((outcome.outputs.event![0] as { issue: { title: string } }).issue.title).to.equal('Webhooked');
    });

    it('fails on its default (empty) payload', async () => {
      const outcome = await run('github.issue_event', {});
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.contain('not a GitHub issues event');
    });
  });

  describe('webhook manager, as the loader registers it', () => {
    async function loadManager() {
      const providers = new ProviderRegistry({ github: api.url });
      const [status] = await loadPlugins([PLUGIN], new InMemoryBlockRegistry(), { providers, resolveFrom: ROOT });
      expect(status!.status, status!.error ?? '').to.equal('loaded');
      const provider = providers.get('github')!;
      expect(provider.definition.webhooks).to.deep.equal({ event_types: ['issues', 'issue_comment', 'pull_request', 'push'], mode: 'auto' });
      return { manager: provider.webhooks!, baseUrl: provider.baseUrl! };
    }

    it('registers a hook on the repository and removes it again', async () => {
      const { manager, baseUrl } = await loadManager();
      const http = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'] });
      try {
        const fetch = http.createFetch({ credential: { type: 'bearer', token: 'test-token' }, baseUrl });
        const config = { owner: 'octo', repo: 'hello-world' };
        const { externalId } = await manager.register!({ fetch, url: 'https://blockyard.example/webhooks/github/w1', secret: 'hook-secret', events: ['issues'], config });
        const hooks = api.repositories.get('octo/hello-world')!.hooks;
        expect(hooks.map((h) => String(h.id))).to.deep.equal([externalId]);
        expect(hooks[0]).to.deep.include({ name: 'web', active: true, events: ['issues'], secret: 'hook-secret' });
        expect(hooks[0]!.config).to.deep.include({ url: 'https://blockyard.example/webhooks/github/w1', content_type: 'json' });

        let duplicate: unknown;
        await manager.register!({ fetch, url: 'https://blockyard.example/webhooks/github/w1', secret: 'hook-secret', events: ['issues'], config }).catch((e: unknown) => (duplicate = e));
        expect((duplicate as Error).message).to.equal('cannot register the webhook: GitHub rejected the request (422): Validation Failed (Hook already exists on this repository)');

        await manager.deregister!({ fetch, externalId, config });
        expect(hooks).to.have.length(0);
        expect(api.requests.at(-1)).to.include({ method: 'DELETE', path: `/repos/octo/hello-world/hooks/${externalId}` });
      } finally {
        await http.close();
      }
    });

    it('verifies deliveries signed as GitHub signs them, and reads their event', async () => {
      const { manager } = await loadManager();
      const raw = Buffer.from(JSON.stringify({ action: 'closed', issue: { number: 1 } }));
      const headers = { 'x-github-event': 'issues', 'x-github-delivery': 'd-1', 'x-hub-signature-256': `sha256=${createHmac('sha256', 'hook-secret').update(raw).digest('hex')}` };
      const delivery = { headers, rawBody: raw, body: JSON.parse(raw.toString()) };
      expect(manager.verify(delivery, 'hook-secret')).to.equal(true);
      expect(manager.verify(delivery, 'other-secret')).to.equal(false);
      expect(manager.events(delivery)).to.deep.equal([{ type: 'issues', payload: { action: 'closed', issue: { number: 1 } }, deliveryId: 'd-1' }]);
    });
  });

  describe('manifest', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'plugins/github/blockyard.plugin.json'), 'utf8')) as PluginManifest;

    it('declares the provider as documented', () => {
      const [github] = manifest.providers!;
      expect(github!.base_url).to.equal('https://api.github.com');
      expect(github!.auth[0]).to.deep.equal({ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' });
      expect(github!.default_credential).to.deep.include({ env: 'GITHUB_TOKEN', kind: 'api_key' });
    });
  });
});
