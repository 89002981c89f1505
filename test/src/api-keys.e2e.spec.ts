import { expect } from 'chai';
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

  const call = async (method: string, path: string, body?: unknown, key = admin) => {
    const res = await request(server.url, method, path, { key, body });
    bodies.push(JSON.stringify(res.body));
    return res;
  };

  it('creates a key (201, metadata and the secret once), uses it, lists it without the secret, revokes it (401 at once)', async () => {
    const created = await call('POST', '/api/v1/api-keys', { name: 'ci', scopes: ['READ_BLOCK'] });
    expect(created.status).to.equal(201);
    expect(validators.validate('api-key-created.schema.json', created.body).ok).to.equal(true);
    const { id, secret, prefix } = created.body as { id: string; secret: string; prefix: string };
    expect(created.body).to.include({ name: 'ci', status: 'active', last_used_at: null, expires_at: null });
    expect(created.body.scopes).to.deep.equal(['READ_BLOCK']);
    expect(secret).to.match(/^byk_/);
    expect(secret.startsWith(prefix)).to.equal(true);
    expect(created.headers.get('location')).to.equal(`/api/v1/api-keys/${id}`);

    expect((await call('GET', '/api/v1/blocks', undefined, secret)).status).to.equal(200);
    const noScope = await call('POST', '/api/v1/blocks/example.echo/execute', { inputs: { text: 'x' } }, secret);
    expect(noScope.status).to.equal(403);

    const list = await call('GET', '/api/v1/api-keys');
    expect(list.status).to.equal(200);
    expect(validators.validate('api-key-list.schema.json', list.body).ok).to.equal(true);
    const listed = (list.body as Array<Record<string, unknown>>).find((k) => k.id === id)!;
    expect(listed).to.include({ id, name: 'ci', prefix, status: 'active' });
    expect(listed.last_used_at).to.be.a('string');
    expect(Object.keys(listed).sort()).to.deep.equal(['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'scopes', 'status']);
    expect(JSON.stringify(list.body)).not.to.contain(secret);
    // The new key lists its user's keys too: listing needs no scope.
    const own = await call('GET', '/api/v1/api-keys', undefined, secret);
    expect(own.status).to.equal(200);
    expect(JSON.stringify(own.body)).not.to.contain(secret);

    expect((await call('DELETE', `/api/v1/api-keys/${id}`)).status).to.equal(204);
    const after = await call('GET', '/api/v1/blocks', undefined, secret);
    expect(after.status).to.equal(401);
    expect(((await call('GET', '/api/v1/api-keys')).body as Array<{ id: string; status: string }>).find((k) => k.id === id)?.status).to.equal('revoked');
    // Revoking again is idempotent.
    expect((await call('DELETE', `/api/v1/api-keys/${id}`)).status).to.equal(204);
  });

  it('a key may revoke itself', async () => {
    const { body } = await call('POST', '/api/v1/api-keys', { name: 'self', scopes: ['READ_BLOCK'] });
    expect((await call('DELETE', `/api/v1/api-keys/${body.id}`, undefined, body.secret)).status).to.equal(204);
    expect((await call('GET', '/api/v1/api-keys', undefined, body.secret)).status).to.equal(401);
  });

  it('honours expires_at: active until then, shown in the listing', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await call('POST', '/api/v1/api-keys', { name: 'short', scopes: ['READ_BLOCK'], expires_at: expiresAt });
    expect(res.status).to.equal(201);
    expect(res.body.expires_at).to.equal(expiresAt);
    expect((await call('GET', '/api/v1/blocks', undefined, res.body.secret)).status).to.equal(200);
  });

  it('refuses escalation: 403 naming every scope the calling key lacks, creating nothing', async () => {
    const before = ((await call('GET', '/api/v1/api-keys')).body as unknown[]).length;
    const res = await call('POST', '/api/v1/api-keys', { name: 'more', scopes: ['READ_BLOCK', 'MANAGE_INTEGRATIONS', 'WRITE_RUN'] });
    expect(res.status).to.equal(403);
    expect(res.body.detail).to.contain('MANAGE_INTEGRATIONS').and.to.contain('WRITE_RUN').and.not.to.contain('READ_BLOCK');
    // A narrower key cannot hand back what it was not given.
    const narrow = (await call('POST', '/api/v1/api-keys', { name: 'narrow', scopes: ['READ_BLOCK'] })).body.secret as string;
    const up = await call('POST', '/api/v1/api-keys', { name: 'up', scopes: ['EXECUTE_BLOCK'] }, narrow);
    expect(up.status).to.equal(403);
    expect(up.body.detail).to.contain('EXECUTE_BLOCK');
    expect(((await call('GET', '/api/v1/api-keys')).body as unknown[]).length).to.equal(before + 1);
  });

  it('answers 422 for bad input, naming the problem, creating nothing', async () => {
    const before = ((await call('GET', '/api/v1/api-keys')).body as unknown[]).length;
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
      const res = await call('POST', '/api/v1/api-keys', body);
      expect(res.status, JSON.stringify(body)).to.equal(422);
      expect(res.body.detail, JSON.stringify(body)).to.contain(mentions);
    }
    const malformed = await request(server.url, 'POST', '/api/v1/api-keys', { key: admin, raw: '{"name":' });
    expect(malformed.status).to.equal(400);
    expect(((await call('GET', '/api/v1/api-keys')).body as unknown[]).length).to.equal(before);
  });

  it('needs a valid key for every route (401)', async () => {
    for (const [method, path] of [['GET', '/api/v1/api-keys'], ['POST', '/api/v1/api-keys'], ['DELETE', '/api/v1/api-keys/x']] as const) {
      expect((await request(server.url, method, path, { body: method === 'POST' ? { name: 'x', scopes: ['READ_BLOCK'] } : undefined })).status).to.equal(401);
      expect((await request(server.url, method, path, { key: 'byk_not_a_key' })).status).to.equal(401);
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
    const mine = ((await call('GET', '/api/v1/api-keys')).body as Array<{ id: string }>).map((k) => k.id);
    expect(mine).not.to.include(bobKeyId);
    const bobs = ((await call('GET', '/api/v1/api-keys', undefined, bobKey)).body as Array<{ id: string }>).map((k) => k.id);
    expect(bobs).to.deep.equal([bobKeyId]);

    expect((await call('DELETE', `/api/v1/api-keys/${mine[0]}`, undefined, bobKey)).status).to.equal(404);
    expect((await call('DELETE', `/api/v1/api-keys/${bobKeyId}`)).status).to.equal(404);
    expect((await call('DELETE', '/api/v1/api-keys/00000000-0000-0000-0000-000000000000')).status).to.equal(404);
    // Both keys still work.
    expect((await call('GET', '/api/v1/blocks', undefined, bobKey)).status).to.equal(200);
    expect((await call('GET', '/api/v1/blocks')).status).to.equal(200);
  });

  it('never shows a secret except in the one 201 answer', () => {
    const created = bodies.filter((b) => b.includes('"secret":"byk_'));
    const secrets = created.map((b) => (JSON.parse(b) as { secret: string }).secret);
    for (const s of secrets) expect(bodies.filter((b) => b.includes(s))).to.have.length(1);
    expect(server.output()).not.to.match(/byk_[A-Za-z0-9_-]{20,}/);
  });
});
