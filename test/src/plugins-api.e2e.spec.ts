import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';
import { startGitHubApi, type GitHubApiStandIn } from './support/stand-ins/github-api.js';

const validators = new ContractValidators();

describe('first-party plugins through the HTTP API (GitHub against a local stand-in)', function () {
  this.timeout(60_000);
  let github: GitHubApiStandIn;
  let server: ServerProcess;
  let key: string;
  let dataDir: string;

  before(async () => {
    github = await startGitHubApi({ token: 'ghp_e2e_secret_token' });
    dataDir = makeDataDir();
    key = await createKey(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    server = await startServerProcess(
      {
        GITHUB_TOKEN: 'ghp_e2e_secret_token',
        BLOCKYARD_PROVIDER_BASE_URLS: `github=${github.url}`,
        BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      },
      dataDir,
    );
  });

  after(async () => {
    await server?.stop();
    await github?.close();
    removeDataDir(dataDir);
  });

  it('lists every first-party plugin as loaded at GET /api/v1/plugins', async () => {
    const res = await request(server.url, 'GET', '/api/v1/plugins', { key });
    expect(res.status).to.equal(200);
    expect(validators.validate('plugin-list.schema.json', res.body).ok).to.equal(true);
    const byName = Object.fromEntries((res.body as Array<{ name: string; status: string; error: string | null }>).map((p) => [p.name, p]));
    for (const name of ['example', 'http', 'github', 'slack', 'linear', 'notion']) {
      expect(byName[`@blockyard/plugin-${name}`], name).to.include({ status: 'loaded', error: null });
    }
  });

  it('creates a GitHub issue with the system credential injected, and never shows the token', async () => {
    const repo = [...github.repositories.values()][0]!;
    const res = await request(server.url, 'POST', '/api/v1/blocks/github.create_issue/execute?wait=10', {
      key,
      body: { inputs: { owner: repo.owner, repo: repo.name, title: 'Found through Blockyard', body: 'end to end' } },
    });
    expect(res.status).to.equal(200);
    expect(res.body.status, res.body.error).to.equal('completed');
    expect(res.body.outputs.issue[0]).to.include({ title: 'Found through Blockyard', state: 'open' });
    const sent = github.requests.find((r) => r.method === 'POST' && r.path === `/repos/${repo.owner}/${repo.name}/issues`);
    expect(sent?.headers.authorization).to.equal('Bearer ghp_e2e_secret_token');
    expect(sent?.body).to.deep.include({ title: 'Found through Blockyard', body: 'end to end' });
    expect(JSON.stringify(res.body)).not.to.contain('ghp_e2e_secret_token');
    expect(server.output()).not.to.contain('ghp_e2e_secret_token');
  });

  it('fails the execution with GitHub’s reason when the repository does not exist', async () => {
    const res = await request(server.url, 'POST', '/api/v1/blocks/github.get_issue/execute?wait=10', {
      key,
      body: { inputs: { owner: 'nobody', repo: 'nothing', issue_number: 1 } },
    });
    expect(res.body.status).to.equal('failed');
    expect(res.body.error).to.match(/not found/i);
    expect(res.body.error).not.to.contain('ghp_e2e_secret_token');
  });
});
