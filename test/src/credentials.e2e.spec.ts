import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ContractValidators } from '@blockyard/contracts';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';
import { startGitHubApi, type GitHubApiStandIn } from './support/stand-ins/github-api.js';

const validators = new ContractValidators();
const USER_SECRET = 'ghp_user_secret_value_123';
const SYSTEM_SECRET = 'ghp_system_secret_value_456';

describe('credentials over HTTP (encrypted at rest, used by runs, never shown)', function () {
  this.timeout(60_000);
  let github: GitHubApiStandIn;
  let server: ServerProcess;
  let dataDir: string;
  let key: string;
  const secretsSeen: string[] = [];

  before(async () => {
    github = await startGitHubApi({ token: USER_SECRET });
    dataDir = makeDataDir();
    key = await createKey(['READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS', 'DELETE_INTEGRATIONS', 'EXECUTE_BLOCK', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    server = await startServerProcess(
      { GITHUB_TOKEN: SYSTEM_SECRET, BLOCKYARD_PROVIDER_BASE_URLS: `github=${github.url}`, BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
      dataDir,
    );
  });

  after(async () => {
    await server?.stop();
    await github?.close();
    removeDataDir(dataDir);
  });

  const call = async (method: string, path: string, body?: unknown, asKey = key) => {
    const res = await request(server.url, method, path, { key: asKey, body });
    secretsSeen.push(JSON.stringify(res.body));
    return res;
  };
  const createGithubCredential = (scopes: string[], secret = USER_SECRET) =>
    call('POST', '/api/v1/credentials', { provider: 'github', kind: 'api_key', title: 'my token', scopes, secret: { api_key: secret } });

  it('creates a credential and answers its metadata only', async () => {
    const res = await createGithubCredential(['github:repo.read', 'github:repo.write']);
    expect(res.status).to.equal(201);
    expect(validators.validate('credential-body.schema.json', res.body).ok).to.equal(true);
    expect(res.body).to.include({ provider: 'github', kind: 'api_key', title: 'my token', status: 'active', system: false });
    expect(JSON.stringify(res.body)).not.to.contain(USER_SECRET);
  });

  it('lists the caller’s credentials and the system one, with no secret', async () => {
    const res = await call('GET', '/api/v1/credentials');
    expect(res.status).to.equal(200);
    expect(validators.validate('credential-list.schema.json', res.body).ok).to.equal(true);
    const list = res.body as Array<{ id: string; system: boolean; provider: string }>;
    expect(list.some((c) => !c.system && c.provider === 'github')).to.equal(true);
    expect(list.find((c) => c.system)).to.include({ id: 'system:github', provider: 'github' });
  });

  it('keeps the secret encrypted in the database', () => {
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith('blockyard.sqlite'))) {
      expect(readFileSync(join(dataDir, file)).includes(Buffer.from(USER_SECRET)), file).to.equal(false);
    }
    expect(statSync(join(dataDir, 'encryption.keys')).mode & 0o077).to.equal(0);
  });

  it('runs a block with the caller’s own credential named in inputs.credentials', async () => {
    const mine = (await call('GET', '/api/v1/credentials')).body.find((c: { system: boolean }) => !c.system);
    const repo = [...github.repositories.values()][0]!;
    const res = await call('POST', '/api/v1/blocks/github.create_issue/execute?wait=10', { inputs: { owner: repo.owner, repo: repo.name, title: 'with my token', credentials: { id: mine.id } } });
    expect(res.body.status, res.body.error).to.equal('completed');
    const sent = github.requests.find((r) => r.method === 'POST' && (r.body as { title?: string })?.title === 'with my token');
    expect(sent?.headers.authorization).to.equal(`Bearer ${USER_SECRET}`);
    expect(res.body.inputs.credentials).to.deep.equal({ id: mine.id });
  });

  it('answers 403 naming the scope a credential lacks', async () => {
    const readOnly = await createGithubCredential(['github:repo.read']);
    const res = await call('POST', '/api/v1/blocks/github.create_issue/execute', { inputs: { owner: 'o', repo: 'r', title: 't', credentials: { id: readOnly.body.id } } });
    expect(res.status).to.equal(403);
    expect(res.body.detail).to.contain('github:repo.write');
  });

  it("answers 404 for another user's credential, at execute and at delete", async () => {
    const mine = (await call('GET', '/api/v1/credentials')).body.find((c: { system: boolean }) => !c.system);
    const other = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    let bobKey: string;
    try {
      const bob = await other.container.get(UserService).createUser({ email: 'bob@example.com', name: 'Bob' });
      bobKey = (await other.container.get(ApiKeyService).createApiKey({ userId: bob.id, scopes: ['EXECUTE_BLOCK', 'DELETE_INTEGRATIONS', 'READ_INTEGRATIONS'] })).secret;
    } finally {
      await other.close();
    }
    const run = await call('POST', '/api/v1/blocks/github.create_issue/execute', { inputs: { owner: 'o', repo: 'r', title: 't', credentials: { id: mine.id } } }, bobKey);
    expect(run.status).to.equal(404);
    expect((await call('DELETE', `/api/v1/credentials/${mine.id}`, undefined, bobKey)).status).to.equal(404);
    expect(((await call('GET', '/api/v1/credentials', undefined, bobKey)).body as Array<{ id: string }>).some((c) => c.id === mine.id)).to.equal(false);
  });

  it('answers 422 for bad input, storing nothing', async () => {
    const before = ((await call('GET', '/api/v1/credentials')).body as unknown[]).length;
    expect((await call('POST', '/api/v1/credentials', { provider: 'nope', kind: 'api_key', secret: { api_key: 'x' } })).status).to.equal(422);
    expect((await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'user_password', secret: { username: 'u', password: 'p' } })).status).to.equal(422);
    expect((await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'api_key', secret: {} })).status).to.equal(422);
    expect((await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'api_key', scopes: ['github:everything'], secret: { api_key: 'x' } })).status).to.equal(422);
    expect((await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'token', secret: { api_key: 'x' } })).status).to.equal(422);
    expect(((await call('GET', '/api/v1/credentials')).body as unknown[]).length).to.equal(before);
  });

  it('deletes a credential (200 saying so, nothing to revoke for an api_key; then 404), and refuses to delete the system one', async () => {
    const created = await createGithubCredential(['github:repo.read'], 'ghp_doomed_secret_789');
    const deleted = await call('DELETE', `/api/v1/credentials/${created.body.id}`);
    expect(deleted.status).to.equal(200);
    expect(validators.validate('credential-deleted.schema.json', deleted.body).ok).to.equal(true);
    expect(deleted.body).to.deep.equal({ id: created.body.id, deleted: true, revoked: null });
    expect((await call('DELETE', `/api/v1/credentials/${created.body.id}`)).status).to.equal(404);
    expect((await call('DELETE', '/api/v1/credentials/system:github')).status).to.equal(403);
  });

  it('needs the integration scopes', async () => {
    const other = await createKey(['READ_BLOCK'], { BLOCKYARD_DATA_DIR: dataDir });
    expect((await request(server.url, 'GET', '/api/v1/credentials', { key: other })).status).to.equal(403);
  });

  it('never shows a secret in any response or log line', () => {
    const everything = secretsSeen.join('\n') + server.output();
    for (const secret of [USER_SECRET, SYSTEM_SECRET, 'ghp_doomed_secret_789']) expect(everything).not.to.contain(secret);
  });
});
