import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey, runBlockyard } from './support/cli.js';
import { request } from './support/http.js';
import { startGitHubApi, type GitHubApiStandIn } from './support/stand-ins/github-api.js';

const TOKEN = 'ghp_rotation_secret_value_789';
const KEY_A = `key-a:${randomBytes(32).toString('base64')}`;
const KEY_B = `key-b:${randomBytes(32).toString('base64')}`;

describe('blockyard secrets rotate (key A -> B while the server runs)', function () {
  this.timeout(120_000);
  let github: GitHubApiStandIn;
  let dataDir: string;
  let apiKey: string;
  let server: ServerProcess | undefined;
  const credentialIds: string[] = [];

  const start = async (keys: string) => {
    await server?.stop();
    server = await startServerProcess(
      { BLOCKYARD_ENCRYPTION_KEYS: keys, BLOCKYARD_PROVIDER_BASE_URLS: `github=${github.url}`, BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
      dataDir,
    );
    return server;
  };
  const rotate = (keys: string) => runBlockyard(['secrets', 'rotate', '--page-size', '2'], { BLOCKYARD_DATA_DIR: dataDir, BLOCKYARD_ENCRYPTION_KEYS: keys });
  const runWith = (credentialId: string, title: string) => {
    const repo = [...github.repositories.values()][0]!;
    return request(server!.url, 'POST', '/api/v1/blocks/github.create_issue/execute?wait=10', {
      key: apiKey,
      body: { inputs: { owner: repo.owner, repo: repo.name, title, credentials: { id: credentialId } } },
    });
  };
  const expectRunUsedToken = async (credentialId: string, title: string) => {
    const res = await runWith(credentialId, title);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.status, res.body.error).to.equal('completed');
    const sent = github.requests.find((r) => r.method === 'POST' && (r.body as { title?: string })?.title === title);
    expect(sent?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
  };

  before(async () => {
    github = await startGitHubApi({ token: TOKEN });
    dataDir = makeDataDir();
    apiKey = await createKey(['MANAGE_INTEGRATIONS', 'READ_INTEGRATIONS', 'EXECUTE_BLOCK', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir, BLOCKYARD_ENCRYPTION_KEYS: KEY_A });
  });

  after(async () => {
    await server?.stop();
    await github?.close();
    removeDataDir(dataDir);
  });

  it('creates credentials under key A, and runs use them', async () => {
    await start(KEY_A);
    for (let i = 0; i < 5; i++) {
      const res = await request(server!.url, 'POST', '/api/v1/credentials', {
        key: apiKey,
        body: { provider: 'github', kind: 'api_key', title: `token ${i}`, scopes: ['github:repo.read', 'github:repo.write'], secret: { api_key: TOKEN } },
      });
      expect(res.status).to.equal(201);
      credentialIds.push(res.body.id);
    }
    await expectRunUsedToken(credentialIds[0]!, 'under A');
  });

  it('rotates to B while a server with B,A keeps serving runs, printing counts', async () => {
    await start(`${KEY_B},${KEY_A}`);
    const [result, ...runs] = await Promise.all([rotate(`${KEY_B},${KEY_A}`), ...credentialIds.map((id, i) => runWith(id, `during rotation ${i}`))]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('active key key-b: 5 credential(s) scanned, 5 re-encrypted, 0 already current');
    expect(result.stdout).to.contain('0 failed');
    for (const run of runs) expect(run.body.status, JSON.stringify(run.body)).to.equal('completed');

    const again = await rotate(`${KEY_B},${KEY_A}`);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('5 credential(s) scanned, 0 re-encrypted, 5 already current');
  });

  it('restarted with only B, every credential still works', async () => {
    await start(KEY_B);
    for (const [i, id] of credentialIds.entries()) await expectRunUsedToken(id, `only B ${i}`);
  });

  it('rotating with a ring that lacks the sealing key fails loudly, naming every credential, exit 1', async () => {
    const result = await rotate(KEY_A);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain('5 credential(s) scanned, 0 re-encrypted, 0 already current');
    for (const id of credentialIds) expect(result.stderr).to.contain(`credential ${id} (sealed with key key-b)`);
    expect(result.stderr).to.contain('5 credential(s) could not be re-encrypted');
    expect(result.stdout + result.stderr).not.to.contain(TOKEN);
  });

  it('restarted with only A, using a credential fails loudly with its id (never an empty credential)', async () => {
    await start(KEY_A);
    const before = github.requests.length;
    const res = await runWith(credentialIds[1]!, 'only A');
    // Accepted (its metadata checks pass), then the run fails naming the credential and the key.
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('failed');
    expect(res.body.error).to.contain(`credential ${credentialIds[1]} cannot be decrypted`).and.to.contain('key-b');
    expect(github.requests.length).to.equal(before);
    // The log line is written before the answer, but reaches us through a pipe: give it a moment.
    for (let i = 0; i < 40 && !server!.output().includes(credentialIds[1]!); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server!.output()).to.contain(credentialIds[1]!);
    expect(server!.output()).not.to.contain(TOKEN);
  });
});
