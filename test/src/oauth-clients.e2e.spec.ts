import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey, createKey } from './support/cli.js';
import { request } from './support/http.js';
import { Browser, createUser, OAuthApp } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-clients-pässword-1' };
const BOB = { email: 'bob@example.org', password: 'Bob-clients-pässword-2' };
const REDIRECT = 'https://myapp.com/oauth/callback';
const GUIDE_BODY = {
  name: 'My App',
  description: 'Description of your app',
  client_type: 'confidential',
  redirect_uris: [REDIRECT],
  webhook_domains: ['myapp.com', '*.myapp.com'],
};

describe('OAuth client management end to end (/oauth/clients/, as in the external API guide)', function () {
  this.timeout(90_000);
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  /** Ann's full-access key (every scope), as client management with a key requires. */
  let annKey: string;
  /** Ann's least-privilege key (READ_BLOCK only, say a CI job's): it may not manage clients. */
  let annReadOnlyKey: string;
  let bob: Browser;
  const secrets: string[] = [ANN.password, BOB.password];

  /** A JSON call as Bob's browser makes it: the session cookie, same origin. */
  async function asBob(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return request(base, method, path, { body, headers: { cookie: [...bob.jar].map(([k, v]) => `${k}=${v}`).join('; '), origin: base, ...headers } });
  }

  async function annCreates(body: Record<string, unknown> = GUIDE_BODY) {
    const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    secrets.push(res.body.client_secret ?? '', res.body.webhook_secret);
    return res;
  }

  /** Whether the token endpoint accepts this client secret (a made-up refresh token: invalid_grant after client authentication, invalid_client before). */
  async function secretAccepted(clientId: string, secret: string): Promise<boolean> {
    const res = await new OAuthApp(base, clientId, secret, REDIRECT).refresh('no-such-refresh-token');
    if (res.body.error === 'invalid_grant') return true;
    expect(res.body.error).to.equal('invalid_client');
    return false;
  }

  before(async () => {
    dataDir = makeDataDir();
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann', ANN.password, env);
    await createUser(BOB.email, 'Bob', BOB.password, env);
    annKey = await createFullKey(env);
    annReadOnlyKey = await createKey(['READ_BLOCK'], env);
    secrets.push(annKey, annReadOnlyKey);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServerProcess({ PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
    bob = new Browser(base);
    await bob.signIn(BOB.email, BOB.password);
  });

  after(async () => {
    await server?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  describe('POST /oauth/clients/', () => {
    it("registers the guide's example: 201 { client_id, client_secret } plus the webhook secret, shown once", async () => {
      const res = await annCreates();
      expect(validators.validate('oauth-client-created.schema.json', res.body).ok).to.equal(true);
      expect(res.body.client_id).to.match(/^app_[a-z0-9]+$/);
      expect(res.body.client_secret).to.match(/^secret_[A-Za-z0-9_-]{43}$/);
      expect(res.body.webhook_secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(res.body).to.include({ name: 'My App', description: 'Description of your app', client_type: 'confidential', disabled: false });
      expect(res.body.redirect_uris).to.deep.equal([REDIRECT]);
      expect(res.body.webhook_domains).to.deep.equal(['myapp.com', '*.myapp.com']);
      expect(res.headers.get('location')).to.equal(`/oauth/clients/${res.body.client_id}`);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(await secretAccepted(res.body.client_id, res.body.client_secret)).to.equal(true);
      expect(await secretAccepted(res.body.client_id, 'secret_guess')).to.equal(false);
    });

    it('registers a public client without a secret, and takes the path without the trailing slash too', async () => {
      const res = await request(base, 'POST', '/oauth/clients', { key: annKey, body: { name: 'SPA', client_type: 'public', redirect_uris: ['http://localhost:3000/cb', 'http://127.0.0.1:3000/cb'] } });
      expect(res.status).to.equal(201);
      expect(res.body.client_secret).to.equal(null);
      expect(res.body.webhook_secret).to.match(/^whsec_/);
      expect(res.body.webhook_domains).to.deep.equal([]);
      secrets.push(res.body.webhook_secret);
    });

    it('works with the session cookie of a signed-in user, and with an API key as a bearer token', async () => {
      const res = await asBob('POST', '/oauth/clients/', { ...GUIDE_BODY, name: "Bob's App" });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      secrets.push(res.body.client_secret, res.body.webhook_secret);
      const bearer = await request(base, 'POST', '/oauth/clients/', { headers: { authorization: `Bearer ${annKey}` }, body: { ...GUIDE_BODY, name: 'Via bearer key' } });
      expect(bearer.status).to.equal(201);
      secrets.push(bearer.body.client_secret, bearer.body.webhook_secret);
    });

    it('refuses the unauthenticated (401), a wrong API key (401) and a cookie request from another origin (403)', async () => {
      const anonymous = await request(base, 'POST', '/oauth/clients/', { body: GUIDE_BODY });
      expect(anonymous.status).to.equal(401);
      expect(anonymous.body.detail).to.be.a('string');
      const crossSite = await asBob('POST', '/oauth/clients/', GUIDE_BODY, { origin: 'https://evil.example' });
      expect(crossSite.status).to.equal(403);
      const badKey = await request(base, 'GET', '/oauth/clients/', { key: 'byk_wrong' });
      expect(badKey.status).to.equal(401);
    });

    it('answers 422 { detail } for bad redirect URIs, webhook domains, types or fields, and stores nothing', async () => {
      const before = (await request(base, 'GET', '/oauth/clients/', { key: annKey })).body.length;
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{ ...GUIDE_BODY, redirect_uris: ['http://myapp.com/cb'] }, /redirect_uris.*https/],
        [{ ...GUIDE_BODY, redirect_uris: ['https://myapp.com/cb#x'] }, /fragment/],
        [{ ...GUIDE_BODY, redirect_uris: ['myapp.com/cb'] }, /absolute URL/],
        [{ ...GUIDE_BODY, redirect_uris: [] }, /redirect_uris/],
        [{ ...GUIDE_BODY, webhook_domains: ['*.com'] }, /webhook_domains/],
        [{ ...GUIDE_BODY, webhook_domains: ['https://myapp.com'] }, /webhook_domains/],
        [{ ...GUIDE_BODY, client_type: 'spa' }, /client_type/],
        [{ ...GUIDE_BODY, logo_uri: 'https://x' }, /logo_uri/],
        [{ ...GUIDE_BODY, name: '' }, /name/],
      ];
      for (const [body, detail] of bad) {
        const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body });
        expect(res.status, JSON.stringify(body)).to.equal(422);
        expect(Object.keys(res.body)).to.deep.equal(['detail']);
        expect(res.body.detail).to.match(detail);
      }
      expect((await request(base, 'GET', '/oauth/clients/', { key: annKey })).body.length).to.equal(before);
    });
  });

  describe('GET /oauth/clients/ and /oauth/clients/:client_id', () => {
    it("lists and shows the caller's clients only, never a secret", async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Listed' });
      const list = await request(base, 'GET', '/oauth/clients/', { key: annKey });
      expect(list.status).to.equal(200);
      expect(validators.validate('oauth-client-list.schema.json', list.body).ok).to.equal(true);
      const ids = (list.body as Array<{ client_id: string }>).map((c) => c.client_id);
      expect(ids).to.include(created.body.client_id);
      expect((list.body as Array<{ name: string }>).map((c) => c.name)).not.to.include("Bob's App");
      const text = JSON.stringify(list.body);
      expect(text).not.to.contain(created.body.client_secret).and.not.to.contain(created.body.webhook_secret);
      expect(text).not.to.match(/secret/);
      const noSlash = await request(base, 'GET', '/oauth/clients', { key: annKey });
      expect(noSlash.body).to.deep.equal(list.body);

      const one = await request(base, 'GET', `/oauth/clients/${created.body.client_id}`, { key: annKey });
      expect(one.status).to.equal(200);
      expect(validators.validate('oauth-client-body.schema.json', one.body).ok).to.equal(true);
      expect(one.body).to.include({ client_id: created.body.client_id, name: 'Listed' });
      expect(JSON.stringify(one.body)).not.to.match(/secret/);

      const bobs = await asBob('GET', '/oauth/clients/');
      expect((bobs.body as Array<{ client_id: string }>).map((c) => c.client_id)).not.to.include(created.body.client_id);
    });

    it("answers 404 for another user's client on every route, and changes nothing", async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Private' });
      const id = created.body.client_id;
      for (const [method, path, body] of [
        ['GET', `/oauth/clients/${id}`, undefined],
        ['PATCH', `/oauth/clients/${id}`, { name: 'Stolen' }],
        ['DELETE', `/oauth/clients/${id}`, undefined],
        ['POST', `/oauth/clients/${id}/rotate-secret`, undefined],
      ] as const) {
        const res = await asBob(method, path, body);
        expect(res.status, `${method} ${path}`).to.equal(404);
        expect(res.body.detail).to.be.a('string');
      }
      expect((await asBob('GET', '/oauth/clients/app_does_not_exist')).status).to.equal(404);
      const still = await request(base, 'GET', `/oauth/clients/${id}`, { key: annKey });
      expect(still.body.name).to.equal('Private');
      expect(await secretAccepted(id, created.body.client_secret)).to.equal(true);
    });
  });

  describe('PATCH /oauth/clients/:client_id', () => {
    it('changes name, description, redirect URIs and webhook domains; the type cannot change', async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Before' });
      const id = created.body.client_id;
      const res = await request(base, 'PATCH', `/oauth/clients/${id}`, { key: annKey, body: { name: 'After', description: 'New words', redirect_uris: ['https://new.myapp.com/cb'], webhook_domains: ['Hooks.MyApp.com'] } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ name: 'After', description: 'New words', client_type: 'confidential' });
      expect(res.body.redirect_uris).to.deep.equal(['https://new.myapp.com/cb']);
      expect(res.body.webhook_domains).to.deep.equal(['hooks.myapp.com']);
      expect(res.body.updated_at >= created.body.updated_at).to.equal(true);
      const typeChange = await request(base, 'PATCH', `/oauth/clients/${id}`, { key: annKey, body: { client_type: 'public' } });
      expect(typeChange.status).to.equal(422);
      const badUri = await request(base, 'PATCH', `/oauth/clients/${id}`, { key: annKey, body: { redirect_uris: ['http://evil.example/cb'] } });
      expect(badUri.status).to.equal(422);
      const empty = await request(base, 'PATCH', `/oauth/clients/${id}`, { key: annKey, body: {} });
      expect(empty.status).to.equal(422);
      expect((await request(base, 'GET', `/oauth/clients/${id}`, { key: annKey })).body.redirect_uris).to.deep.equal(['https://new.myapp.com/cb']);
    });

    it('disables a client: it can neither authorize nor use its tokens, until enabled again', async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Switchable' });
      const app = new OAuthApp(base, created.body.client_id, created.body.client_secret, REDIRECT);
      const browser = new Browser(base);
      const { code, verifier } = await app.authorize(browser, { scope: 'openid READ_BLOCK', user: ANN });
      const tokens = await app.exchange(code!, verifier);
      expect(tokens.status).to.equal(200);
      secrets.push(tokens.body.access_token, tokens.body.refresh_token);
      const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(200);

      const off = await request(base, 'PATCH', `/oauth/clients/${app.clientId}`, { key: annKey, body: { disabled: true } });
      expect(off.body.disabled).to.equal(true);
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(401);
      expect((await app.refresh(tokens.body.refresh_token)).body.error).to.equal('invalid_client');
      const authorize = await browser.send('GET', app.authorizeUrl({ scope: 'openid', challenge: 'x'.repeat(43) }), undefined, { accept: 'application/json' });
      expect(authorize.status).to.equal(400);
      expect(JSON.parse(authorize.body).error).to.equal('invalid_client');

      await request(base, 'PATCH', `/oauth/clients/${app.clientId}`, { key: annKey, body: { disabled: false } });
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(200);
    });
  });

  describe('POST /oauth/clients/:client_id/rotate-secret', () => {
    it('renews the client secret (the old one stops working at once), or the webhook secret, shown once', async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Rotating' });
      const id = created.body.client_id;
      const rotated = await request(base, 'POST', `/oauth/clients/${id}/rotate-secret`, { key: annKey });
      expect(rotated.status).to.equal(200);
      expect(validators.validate('oauth-client-secrets.schema.json', rotated.body).ok).to.equal(true);
      expect(Object.keys(rotated.body).sort()).to.deep.equal(['client_id', 'client_secret']);
      expect(rotated.headers.get('cache-control')).to.equal('no-store');
      secrets.push(rotated.body.client_secret);
      expect(await secretAccepted(id, created.body.client_secret)).to.equal(false);
      expect(await secretAccepted(id, rotated.body.client_secret)).to.equal(true);

      const webhook = await request(base, 'POST', `/oauth/clients/${id}/rotate-secret`, { key: annKey, body: { target: 'webhook_secret' } });
      expect(Object.keys(webhook.body).sort()).to.deep.equal(['client_id', 'webhook_secret']);
      expect(webhook.body.webhook_secret).to.match(/^whsec_/).and.not.equal(created.body.webhook_secret);
      secrets.push(webhook.body.webhook_secret);
      expect(await secretAccepted(id, rotated.body.client_secret)).to.equal(true);

      const both = await request(base, 'POST', `/oauth/clients/${id}/rotate-secret`, { key: annKey, body: { target: 'both' } });
      expect(Object.keys(both.body).sort()).to.deep.equal(['client_id', 'client_secret', 'webhook_secret']);
      secrets.push(both.body.client_secret, both.body.webhook_secret);
      const bad = await request(base, 'POST', `/oauth/clients/${id}/rotate-secret`, { key: annKey, body: { target: 'password' } });
      expect(bad.status).to.equal(422);
    });

    it("renews a public client's webhook secret, and refuses it a client secret", async () => {
      const created = await annCreates({ name: 'Public', client_type: 'public', redirect_uris: [REDIRECT] });
      const rotated = await request(base, 'POST', `/oauth/clients/${created.body.client_id}/rotate-secret`, { key: annKey });
      expect(Object.keys(rotated.body).sort()).to.deep.equal(['client_id', 'webhook_secret']);
      secrets.push(rotated.body.webhook_secret);
      const refused = await request(base, 'POST', `/oauth/clients/${created.body.client_id}/rotate-secret`, { key: annKey, body: { target: 'client_secret' } });
      expect(refused.status).to.equal(422);
      expect(refused.body.detail).to.match(/public client/);
    });
  });

  describe('DELETE /oauth/clients/:client_id', () => {
    it("deletes the client (204) and revokes its tokens; it is unknown to the token endpoint afterwards", async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Doomed' });
      const app = new OAuthApp(base, created.body.client_id, created.body.client_secret, REDIRECT);
      const { code, verifier } = await app.authorize(new Browser(base), { scope: 'openid READ_BLOCK', user: ANN });
      const tokens = await app.exchange(code!, verifier);
      secrets.push(tokens.body.access_token, tokens.body.refresh_token);
      const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(200);

      const deleted = await request(base, 'DELETE', `/oauth/clients/${app.clientId}`, { key: annKey });
      expect(deleted.status).to.equal(204);
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(401);
      expect((await app.userinfo(tokens.body.access_token)).status).to.equal(401);
      expect((await app.refresh(tokens.body.refresh_token)).body.error).to.equal('invalid_client');
      expect((await request(base, 'GET', `/oauth/clients/${app.clientId}`, { key: annKey })).status).to.equal(404);
      expect((await request(base, 'DELETE', `/oauth/clients/${app.clientId}`, { key: annKey })).status).to.equal(404);
    });
  });

  describe('who may manage clients', () => {
    it('refuses an API key lacking any scope (403 naming them) on every client route, changing nothing; a full-access key may', async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Trusted' });
      const id = created.body.client_id;
      const attempts: Array<[string, string, unknown]> = [
        ['PATCH', `/oauth/clients/${id}`, { redirect_uris: ['https://evil.example/cb'], webhook_domains: ['evil.example'] }],
        ['POST', `/oauth/clients/${id}/rotate-secret`, {}],
        ['DELETE', `/oauth/clients/${id}`, undefined],
        ['POST', '/oauth/clients/', { ...GUIDE_BODY, name: 'Sneaky' }],
        ['GET', '/oauth/clients/', undefined],
        ['GET', `/oauth/clients/${id}`, undefined],
        ['GET', `/oauth/clients/${id}/webhook-deliveries`, undefined],
      ];
      for (const [method, path, body] of attempts) {
        for (const auth of [{ key: annReadOnlyKey }, { headers: { authorization: `Bearer ${annReadOnlyKey}` } }]) {
          const res = await request(base, method, path, { ...auth, body });
          expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(403);
          expect(res.body.detail).to.contain('full-access API key');
          expect(res.body.detail).to.contain('RUN_AGENT');
          expect(JSON.stringify(res.body)).not.to.contain('secret_');
        }
      }
      // Nothing changed: the redirect URIs, the secret, the client itself, and no new client.
      const shown = await request(base, 'GET', `/oauth/clients/${id}`, { key: annKey });
      expect(shown.status).to.equal(200);
      expect(shown.body.redirect_uris).to.deep.equal([REDIRECT]);
      expect(shown.body.webhook_domains).to.deep.equal(GUIDE_BODY.webhook_domains);
      expect(await secretAccepted(id, created.body.client_secret)).to.equal(true);
      expect((await request(base, 'GET', '/oauth/clients/', { key: annKey })).body.map((c: { name: string }) => c.name)).not.to.include('Sneaky');

      const patched = await request(base, 'PATCH', `/oauth/clients/${id}`, { key: annKey, body: { redirect_uris: ['https://new.myapp.com/cb'] } });
      expect(patched.status).to.equal(200);
      const rotated = await request(base, 'POST', `/oauth/clients/${id}/rotate-secret`, { key: annKey, body: {} });
      expect(rotated.status).to.equal(200);
      secrets.push(rotated.body.client_secret);
      expect((await request(base, 'GET', `/oauth/clients/${id}/webhook-deliveries`, { key: annKey })).status).to.equal(200);
      expect((await request(base, 'DELETE', `/oauth/clients/${id}`, { key: annKey })).status).to.equal(204);
    });

    it("refuses an app's access token (403) on every client route, its own client's included", async () => {
      const created = await annCreates({ ...GUIDE_BODY, name: 'Token Holder' });
      const id = created.body.client_id;
      const app = new OAuthApp(base, id, created.body.client_secret, REDIRECT);
      const { code, verifier } = await app.authorize(new Browser(base), { scope: 'openid READ_BLOCK', user: ANN });
      const tokens = await app.exchange(code!, verifier);
      expect(tokens.status).to.equal(200);
      secrets.push(tokens.body.access_token, tokens.body.refresh_token);
      const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
      for (const [method, path, body] of [
        ['PATCH', `/oauth/clients/${id}`, { redirect_uris: ['https://evil.example/cb'] }],
        ['POST', `/oauth/clients/${id}/rotate-secret`, {}],
        ['DELETE', `/oauth/clients/${id}`, undefined],
        ['GET', `/oauth/clients/${id}/webhook-deliveries`, undefined],
      ] as Array<[string, string, unknown]>) {
        const res = await request(base, method, path, { headers: bearer, body });
        expect(res.status, `${method} ${path}`).to.equal(403);
        expect(res.body.detail).to.contain("not an app's access token");
      }
      expect((await request(base, 'GET', `/oauth/clients/${id}`, { key: annKey })).body.redirect_uris).to.deep.equal([REDIRECT]);
    });
  });

  describe('secrecy', () => {
    it('keeps client secrets, webhook secrets and tokens out of the server output', () => {
      const output = server.output();
      for (const secret of secrets.filter((s) => s && s.length > 8)) expect(output).not.to.contain(secret);
    });
  });
});
