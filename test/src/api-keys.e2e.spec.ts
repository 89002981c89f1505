// API keys over HTTP with the typed client (@blockyard/client) against a real server process;
// bodies that break the contract on purpose go through plain fetch (support/http.ts).
import { expect } from 'chai';
import { createBlockyardClient, type BlockyardClient } from '@blockyard/client';
import { ContractValidators } from '@blockyard/contracts';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';

const validators = new ContractValidators();

describe('API keys over HTTP (create, use, list, revoke; no escalation)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let dataDir: string;
  let admin: string;
  const bodies: string[] = [];

  before(async () => {
    dataDir = makeDataDir();
    admin = await createKey(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    server = await startServerProcess({}, dataDir);
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  const clients = new Map<string, BlockyardClient>();
  /** The typed client with `key` (default: admin's); every answer's body is kept in `bodies`. */
  const as = (key = admin): BlockyardClient => {
    let client = clients.get(key);
    if (!client) {
      client = createBlockyardClient({ baseUrl: server.url, apiKey: key });
      client.use({ onResponse: async ({ response }) => void bodies.push(await response.clone().text()) });
      clients.set(key, client);
    }
    return client;
  };
  /** A raw request with a body the contract does not allow; its answer is kept in `bodies` too. */
  const raw = async (method: string, path: string, body?: unknown, key = admin) => {
    const res = await request(server.url, method, path, { key, body });
    bodies.push(JSON.stringify(res.body));
    return res;
  };
  const listKeys = async (key = admin) => (await as(key).GET('/api/v1/api-keys')).data!;
  const revoke = (id: string, key = admin) => as(key).DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } });

  it('creates a key (201, metadata and the secret once), uses it, lists it without the secret, revokes it (401 at once)', async () => {
    const created = await as().POST('/api/v1/api-keys', { body: { name: 'ci', scopes: ['READ_BLOCK'] } });
    expect(created.response.status).to.equal(201);
    expect(validators.validate('api-key-created.schema.json', created.data).ok).to.equal(true);
    const { id, secret, prefix } = created.data!;
    expect(created.data).to.include({ name: 'ci', status: 'active', last_used_at: null, expires_at: null });
    expect(created.data!.scopes).to.deep.equal(['READ_BLOCK']);
    expect(secret).to.match(/^byk_/);
    expect(secret.startsWith(prefix)).to.equal(true);
    expect(created.response.headers.get('location')).to.equal(`/api/v1/api-keys/${id}`);

    expect((await as(secret).GET('/api/v1/blocks')).response.status).to.equal(200);
    const noScope = await as(secret).POST('/api/v1/blocks/{id}/execute', { params: { path: { id: 'example.echo' } }, body: { inputs: { text: 'x' } } });
    expect(noScope.response.status).to.equal(403);

    const list = await as().GET('/api/v1/api-keys');
    expect(list.response.status).to.equal(200);
    expect(validators.validate('api-key-list.schema.json', list.data).ok).to.equal(true);
    const listed = list.data!.find((k) => k.id === id)!;
    expect(listed).to.include({ id, name: 'ci', prefix, status: 'active' });
    expect(listed.last_used_at).to.be.a('string');
    expect(Object.keys(listed).sort()).to.deep.equal(['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'scopes', 'status']);
    expect(JSON.stringify(list.data)).not.to.contain(secret);
    // The new key lists its user's keys too: listing needs no scope.
    const own = await as(secret).GET('/api/v1/api-keys');
    expect(own.response.status).to.equal(200);
    expect(JSON.stringify(own.data)).not.to.contain(secret);

    expect((await revoke(id)).response.status).to.equal(204);
    const after = await as(secret).GET('/api/v1/blocks');
    expect(after.response.status).to.equal(401);
    expect((await listKeys()).find((k) => k.id === id)?.status).to.equal('revoked');
    // Revoking again is idempotent.
    expect((await revoke(id)).response.status).to.equal(204);
  });

  it('a key may revoke itself', async () => {
    const { data } = await as().POST('/api/v1/api-keys', { body: { name: 'self', scopes: ['READ_BLOCK'] } });
    expect((await revoke(data!.id, data!.secret)).response.status).to.equal(204);
    expect((await as(data!.secret).GET('/api/v1/api-keys')).response.status).to.equal(401);
  });

  it('honours expires_at: active until then, shown in the listing', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await as().POST('/api/v1/api-keys', { body: { name: 'short', scopes: ['READ_BLOCK'], expires_at: expiresAt } });
    expect(res.response.status).to.equal(201);
    expect(res.data!.expires_at).to.equal(expiresAt);
    expect((await as(res.data!.secret).GET('/api/v1/blocks')).response.status).to.equal(200);
  });

  it('refuses escalation: 403 naming every scope the calling key lacks, creating nothing', async () => {
    const before = (await listKeys()).length;
    const res = await as().POST('/api/v1/api-keys', { body: { name: 'more', scopes: ['READ_BLOCK', 'MANAGE_INTEGRATIONS', 'WRITE_RUN'] } });
    expect(res.response.status).to.equal(403);
    expect(res.error!.detail).to.contain('MANAGE_INTEGRATIONS').and.to.contain('WRITE_RUN').and.not.to.contain('READ_BLOCK');
    // A narrower key cannot hand back what it was not given.
    const narrow = (await as().POST('/api/v1/api-keys', { body: { name: 'narrow', scopes: ['READ_BLOCK'] } })).data!.secret;
    const up = await as(narrow).POST('/api/v1/api-keys', { body: { name: 'up', scopes: ['EXECUTE_BLOCK'] } });
    expect(up.response.status).to.equal(403);
    expect(up.error!.detail).to.contain('EXECUTE_BLOCK');
    expect((await listKeys()).length).to.equal(before + 1);
  });

  it('answers 422 for bad input, naming the problem, creating nothing', async () => {
    const before = (await listKeys()).length;
    const cases: Array<[unknown, string]> = [
      [{ scopes: ['READ_BLOCK'] }, 'name'],
      [{ name: 'x' }, 'scopes'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: '', scopes: ['READ_BLOCK'] }, 'name'],
      [{ name: 'x', scopes: ['NOT_A_SCOPE'] }, 'NOT_A_SCOPE'],
      [{ name: 'x', scopes: 'READ_BLOCK' }, 'scopes'],
      [{ name: 'x', scopes: ['READ_BLOCK'], expires_at: 'tomorrow' }, 'expires_at'],
      [{ name: 'x', scopes: ['READ_BLOCK'], expires_at: '2001-01-01T00:00:00Z' }, 'future'],
      [{ name: 'x', scopes: ['READ_BLOCK'], admin: true }, 'admin'],
    ];
    for (const [body, mentions] of cases) {
      const res = await raw('POST', '/api/v1/api-keys', body);
      expect(res.status, JSON.stringify(body)).to.equal(422);
      expect(res.body.detail, JSON.stringify(body)).to.contain(mentions);
    }
    const malformed = await request(server.url, 'POST', '/api/v1/api-keys', { key: admin, raw: '{"name":' });
    expect(malformed.status).to.equal(400);
    expect((await listKeys()).length).to.equal(before);
  });

  it('needs a valid key for every route (401)', async () => {
    const anonymous = createBlockyardClient({ baseUrl: server.url });
    const unknown = createBlockyardClient({ baseUrl: server.url, apiKey: 'byk_not_a_key' });
    for (const client of [anonymous, unknown]) {
      expect((await client.GET('/api/v1/api-keys')).response.status).to.equal(401);
      expect((await client.POST('/api/v1/api-keys', { body: { name: 'x', scopes: ['READ_BLOCK'] } })).response.status).to.equal(401);
      expect((await client.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: 'x' } } })).response.status).to.equal(401);
    }
  });

  it("answers 404 for another user's key and for unknown ids, and lists only the caller's keys", async () => {
    const other = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    let bobKey: string;
    let bobKeyId: string;
    try {
      const bob = await other.container.get(UserService).createUser({ email: 'bob-keys@example.com', name: 'Bob' });
      const created = await other.container.get(ApiKeyService).createApiKey({ userId: bob.id, scopes: ['READ_BLOCK'] });
      bobKey = created.secret;
      bobKeyId = created.key.id;
    } finally {
      await other.close();
    }
    const mine = (await listKeys()).map((k) => k.id);
    expect(mine).not.to.include(bobKeyId);
    const bobs = (await listKeys(bobKey)).map((k) => k.id);
    expect(bobs).to.deep.equal([bobKeyId]);

    expect((await revoke(mine[0]!, bobKey)).response.status).to.equal(404);
    expect((await revoke(bobKeyId)).response.status).to.equal(404);
    expect((await revoke('00000000-0000-0000-0000-000000000000')).response.status).to.equal(404);
    // Both keys still work.
    expect((await as(bobKey).GET('/api/v1/blocks')).response.status).to.equal(200);
    expect((await as().GET('/api/v1/blocks')).response.status).to.equal(200);
  });

  it('never shows a secret except in the one 201 answer', () => {
    const created = bodies.filter((b) => b.includes('"secret":"byk_'));
    const secrets = created.map((b) => (JSON.parse(b) as { secret: string }).secret);
    expect(secrets, 'the keys created above: ci, self, short, narrow').to.have.length(4);
    for (const s of secrets) expect(bodies.filter((b) => b.includes(s))).to.have.length(1);
    expect(server.output()).not.to.match(/byk_[A-Za-z0-9_-]{20,}/);
  });
});
