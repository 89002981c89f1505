import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { runBlockyard, type CliResult } from './support/cli.js';
import { RecordingHttp, type RecordedReply } from './support/recording-http.js';
import { encodedForms, SecretScanner, type ScanSource } from './support/secret-scan.js';
import { STANDIN_PROVIDER, STANDIN_WHOAMI, standInPluginFixture } from './support/standin-plugin.js';
import { startOAuthProvider, type OAuthProviderStandIn } from './support/stand-ins/oauth-provider.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';

/** A random secret with a recognisable prefix, different on every run. */
const secret = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;

describe('secrecy scanner (self-check)', () => {
  it('finds a secret as is, URL- and form-encoded, JSON-escaped, hex, and inside base64 at every alignment', () => {
    const value = 'pa ss/wörd+"quote"_x7Q2';
    const scanner = new SecretScanner();
    scanner.add('password', value);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const planted: ScanSource[] = [
      { label: 'raw', text: `log line: ${value} end` },
      { label: 'url', text: `GET /x?p=${encodeURIComponent(value)}` },
      { label: 'form', text: `p=${new URLSearchParams({ p: value }).toString().slice(2)}&q=1` },
      { label: 'json', text: JSON.stringify({ p: value }) },
      { label: 'hex', text: Buffer.from(value).toString('hex') },
      { label: 'basic0', text: `authorization: Basic ${b64(`ann:${value}`)}` },
      { label: 'basic1', text: `authorization: Basic ${b64(`anne:${value}`)}` },
      { label: 'basic2', text: `authorization: Basic ${b64(`annie:${value}`)}` },
      { label: 'base64url', text: Buffer.from(`{"k":"${value}"}`).toString('base64url') },
      { label: 'clean', text: `nothing to see: ${value.slice(0, 6)} ${b64('ann:other-password')}` },
    ];
    const found = scanner.scan(planted).map((f) => f.source);
    expect(found).to.deep.equal(planted.filter((p) => p.label !== 'clean').map((p) => p.label));
    scanner.allow('password', 'raw');
    expect(scanner.scan(planted).map((f) => f.source)).not.to.include('raw');
  });

  it('finds raw key bytes by their base64 and hex', () => {
    const key = randomBytes(32);
    const scanner = new SecretScanner();
    scanner.add('key', key);
    expect(scanner.scan([{ label: 'env', text: `BLOCKYARD_ENCRYPTION_KEYS=k1:${key.toString('base64')}` }])).to.have.length(1);
    expect(scanner.scan([{ label: 'hex', text: key.toString('hex') }])).to.have.length(1);
    expect(encodedForms(key).every((f) => f.text.length >= 12)).to.equal(true);
  });
});

describe('secrecy end to end: every credential flow, then no secret in any response, log line or CLI output', function () {
  this.timeout(240_000);
  let provider: OAuthProviderStandIn;
  let exampleApi: ExampleApiStandIn;
  let dataDir: string;
  let pluginDir: string;
  const servers: ServerProcess[] = [];
  const cliRuns: Array<{ label: string; result: CliResult }> = [];

  const EXAMPLE_KEY = secret('exk');
  const CLIENT_SECRET = secret('ocs');

  before(async () => {
    provider = await startOAuthProvider({ clientId: 'secrecy-client', clientSecret: CLIENT_SECRET });
    exampleApi = await startExampleApi(EXAMPLE_KEY);
    dataDir = makeDataDir();
    pluginDir = standInPluginFixture(provider);
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await provider?.close();
    await exampleApi?.close();
    removeDataDir(dataDir);
    removeDataDir(pluginDir);
  });

  it('API keys, users and /login, credentials of each kind, runs, OAuth connect/refresh/revoke, secrets rotate and a restart leak nothing', async () => {
    const scanner = new SecretScanner();
    const http = new RecordingHttp();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const KEY_B = `key-b:${randomBytes(32).toString('base64')}`;
    const env = (keys?: string): Record<string, string> => ({
      BLOCKYARD_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'trace',
      BLOCKYARD_PLUGINS: `@blockyard/plugin-example,${pluginDir}`,
      BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      BLOCKYARD_PUBLIC_URL: base,
      BLOCKYARD_OAUTH_STANDIN_CLIENT_ID: provider.clientId,
      BLOCKYARD_OAUTH_STANDIN_CLIENT_SECRET: CLIENT_SECRET,
      EXAMPLE_API_KEY: EXAMPLE_KEY,
      ...(keys ? { BLOCKYARD_ENCRYPTION_KEYS: keys } : {}),
    });
    const cli = async (args: string[], keys?: string, stdin?: string) => {
      const result = await runBlockyard(args, env(keys), { stdin });
      const label = `cli#${cliRuns.length + 1} blockyard ${args.slice(0, 2).join(' ')}`;
      cliRuns.push({ label, result });
      expect(result.code, `${label}: ${result.stderr}`).to.equal(0);
      return { label, result };
    };
    const start = async (keys?: string) => {
      await servers.at(-1)?.stop();
      const server = await startServerProcess(env(keys), dataDir);
      servers.push(server);
      return server;
    };
    const call = <T = any>(method: string, path: string, options: Parameters<RecordingHttp['send']>[3] = {}): Promise<RecordedReply<T>> => http.send<T>(base, method, path, options);
    const expectStatus = (res: RecordedReply, status: number) => expect(res.status, `${res.label}: ${res.text.slice(0, 500)}`).to.equal(status);

    // --- A user with a password, and the default user's API key, from the CLI.
    const PASSWORD = secret('pw');
    scanner.add('user password', PASSWORD);
    const created = await cli(['users', 'create', '--email', 'ann@example.org', '--name', 'Ann'], undefined, `${PASSWORD}\n`);
    expect(created.result.stdout).to.contain('created user');
    const keyRun = await cli(['keys', 'create', '--scopes', 'READ_BLOCK,EXECUTE_BLOCK,READ_RUN,READ_INTEGRATIONS,MANAGE_INTEGRATIONS,DELETE_INTEGRATIONS', '--name', 'admin']);
    const ADMIN_KEY = keyRun.result.stdout.split('\n').find((l) => l.startsWith('byk_'))!;
    expect(ADMIN_KEY, keyRun.result.stdout).to.match(/^byk_/);
    scanner.add('admin API key (CLI)', ADMIN_KEY, [`${keyRun.label} (stdout)`]);
    const key = ADMIN_KEY;

    // --- The server, with the key file it generates on first start.
    let server = await start();
    const keyFile = readFileSync(join(dataDir, 'encryption.keys'), 'utf8').trim();
    const [, fileKeyB64] = keyFile.split(':');
    scanner.add('generated encryption key (base64)', fileKeyB64!);
    scanner.add('generated encryption key (bytes)', Buffer.from(fileKeyB64!, 'base64'));
    scanner.add('configured encryption key B (base64)', KEY_B.split(':')[1]!);
    scanner.add('configured encryption key B (bytes)', Buffer.from(KEY_B.split(':')[1]!, 'base64'));
    scanner.add('OAuth client secret', CLIENT_SECRET);
    scanner.add('system credential EXAMPLE_API_KEY', EXAMPLE_KEY);
    await cli(['keys', 'list']);

    // --- API keys over HTTP: create (the secret shown once), use, list, revoke.
    const newKey = await call('POST', '/api/v1/api-keys', { key, json: { name: 'ci', scopes: ['READ_BLOCK'] } });
    expectStatus(newKey, 201);
    scanner.add('API key (HTTP)', newKey.body.secret, [newKey.label]);
    expectStatus(await call('GET', '/api/v1/blocks', { key: newKey.body.secret }), 200);
    expectStatus(await call('GET', '/api/v1/api-keys', { key }), 200);
    expectStatus(await call('POST', '/api/v1/blocks/example.echo/execute', { key: newKey.body.secret, json: { inputs: { text: 'no scope' } } }), 403);
    expectStatus(await call('DELETE', `/api/v1/api-keys/${newKey.body.id}`, { key }), 204);
    expectStatus(await call('GET', '/api/v1/blocks', { key: newKey.body.secret }), 401);
    expectStatus(await call('GET', '/api/v1/blocks', { key: `${newKey.body.secret}x` }), 401);

    // --- Login, session, logout through /login with CSRF.
    const WRONG_PASSWORD = secret('wrongpw');
    scanner.add('mistyped password', WRONG_PASSWORD);
    const csrfOf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
    const form1 = await call('GET', '/login');
    expectStatus(form1, 200);
    expectStatus(await call('POST', '/login', { form: { email: 'ann@example.org', password: WRONG_PASSWORD, csrf_token: csrfOf(form1.text) } }), 401);
    expectStatus(await call('POST', '/login', { form: { email: 'ann@example.org', password: PASSWORD, csrf_token: 'forged' } }), 403);
    const form2 = await call('GET', '/login');
    const loggedIn = await call('POST', '/login', { form: { email: 'ann@example.org', password: PASSWORD, csrf_token: csrfOf(form2.text), next: '/account' } });
    expectStatus(loggedIn, 302);
    const sessionId = http.jar.get('blockyard_session')!;
    expect(sessionId, loggedIn.text).to.be.a('string');
    scanner.add('session id', sessionId, [loggedIn.label]);
    const account = await call('GET', '/account');
    expectStatus(account, 200);
    expectStatus(await call('POST', '/logout', { form: { csrf_token: csrfOf(account.text) } }), 302);
    expectStatus(await call('GET', '/account'), 302);

    // --- Credentials of each kind.
    const API_KEY_SECRET = secret('sik');
    const UP_PASSWORD = secret('upw');
    const HOST_HEADER = secret('hsh');
    const HOST_HEADER_2 = secret('hsh2');
    const MANUAL_ACCESS = secret('mat');
    const MANUAL_REFRESH = secret('mrt');
    for (const [label, value] of Object.entries({ 'api_key credential': API_KEY_SECRET, 'user_password password': UP_PASSWORD, 'host_scoped header': HOST_HEADER, 'host_scoped header 2': HOST_HEADER_2, 'oauth2 access token (posted)': MANUAL_ACCESS, 'oauth2 refresh token (posted)': MANUAL_REFRESH })) {
      scanner.add(label, value);
    }
    const createCredential = async (kind: string, body: Record<string, unknown>) => {
      const res = await call('POST', '/api/v1/credentials', { key, json: { provider: STANDIN_PROVIDER, kind, title: `my ${kind}`, ...body } });
      expectStatus(res, 201);
      return res.body.id as string;
    };
    const apiKeyCredential = await createCredential('api_key', { secret: { api_key: API_KEY_SECRET } });
    const unscoped = await createCredential('api_key', { scopes: [], secret: { api_key: API_KEY_SECRET } });
    const userPassword = await createCredential('user_password', { secret: { username: 'ann', password: UP_PASSWORD } });
    const hostScoped = await createCredential('host_scoped', { secret: { host: '127.0.0.1', headers: { 'X-Standin-Token': HOST_HEADER, 'X-Standin-Other': HOST_HEADER_2 } } });
    const manualOAuth = await createCredential('oauth2', { secret: { access_token: MANUAL_ACCESS, refresh_token: MANUAL_REFRESH } });
    expectStatus(await call('POST', '/api/v1/credentials', { key, json: { provider: STANDIN_PROVIDER, kind: 'api_key', secret: { token: API_KEY_SECRET } } }), 422);
    expectStatus(await call('POST', '/api/v1/credentials', { key, raw: `{"provider":"standin","kind":"api_key","secret":{"api_key":"${API_KEY_SECRET}"` }), 400);

    // oauth2 through connect and callback; the provider's first token expires within the refresh margin.
    const connect = async () => {
      const login = await call('GET', `/api/v1/integrations/${STANDIN_PROVIDER}/login`, { key });
      expectStatus(login, 200);
      const back = await provider.authorize(login.body.login_url);
      return call('GET', `${back.pathname}${back.search}`);
    };
    provider.behaviour.expiresIn = 60;
    const connected = await connect();
    expectStatus(connected, 201);
    const oauth = connected.body.id as string;
    provider.behaviour.expiresIn = 3600;
    provider.behaviour.codeError = 'invalid_client';
    expectStatus(await connect(), 502);
    provider.behaviour.codeError = null;
    const listed = await call('GET', '/api/v1/credentials', { key });
    expectStatus(listed, 200);
    expect((listed.body as Array<{ id: string }>).map((c) => c.id)).to.include.members([apiKeyCredential, userPassword, hostScoped, manualOAuth, oauth, 'system:example']);

    // --- Runs with each credential: the stand-in sees each secret, the run answers none.
    const run = (blockId: string, inputs: Record<string, unknown>) => call('POST', `/api/v1/blocks/${blockId}/execute?wait=20`, { key, json: { inputs } });
    const whoami = async (credentialId: string, via: string) => {
      const before = provider.apiRequests.length;
      const res = await run(STANDIN_WHOAMI, { credentials: { id: credentialId } });
      expectStatus(res, 200);
      expect(res.body.status, res.text).to.equal('completed');
      expect(res.body.outputs).to.deep.equal({ status: [200], login: ['standin-user'], via: [via] });
      return provider.apiRequests.slice(before);
    };
    const [byApiKey] = await whoami(apiKeyCredential, 'headers');
    expect(byApiKey!.headers['x-api-key']).to.equal(API_KEY_SECRET);
    const [byPassword] = await whoami(userPassword, 'basic');
    expect(byPassword!.headers.authorization).to.equal(`Basic ${Buffer.from(`ann:${UP_PASSWORD}`).toString('base64')}`);
    const [byHost] = await whoami(hostScoped, 'headers');
    expect(byHost!.headers).to.include({ 'x-standin-token': HOST_HEADER, 'x-standin-other': HOST_HEADER_2 });

    // OAuth refresh: the connected token expires within 5 minutes, so the run refreshes it first.
    const refreshesBefore = provider.calls.refreshToken;
    const [byOAuth] = await whoami(oauth, 'oauth2');
    expect(provider.calls.refreshToken - refreshesBefore).to.equal(1);
    expect(byOAuth!.bearer).to.equal(provider.refreshedAccessTokens.at(-1));
    const refreshed = await call('GET', '/api/v1/credentials', { key });
    expect(new Date((refreshed.body as Array<{ id: string; expires_at: string }>).find((c) => c.id === oauth)!.expires_at).getTime()).to.be.greaterThan(Date.now() + 3000_000);

    // The system credential, and failures: a missing scope, a provider refusing the key, a refresh refused.
    const greet = await run('example.greet', { name: 'Ann', greetings: ['Hello'], is_funny: false });
    expect(greet.body.status, greet.text).to.equal('completed');
    expect(exampleApi.received.at(-1)!.authorization).to.equal(`Bearer ${EXAMPLE_KEY}`);
    expectStatus(await run(STANDIN_WHOAMI, { credentials: { id: unscoped } }), 403);
    exampleApi.failWith = 401;
    const refused = await run('example.greet', { name: 'Ann', greetings: ['Hello'], is_funny: false });
    expect(refused.body.status, refused.text).to.equal('failed');
    exampleApi.failWith = undefined;
    expectStatus(await call('GET', `/api/v1/executions/${greet.body.execution_id}`, { key }), 200);
    provider.behaviour.expiresIn = 60;
    const doomed = await connect();
    expectStatus(doomed, 201);
    provider.behaviour.expiresIn = 3600;
    provider.behaviour.rejectRefresh = true;
    const reauth = await run(STANDIN_WHOAMI, { credentials: { id: doomed.body.id } });
    expect(reauth.status === 403 || reauth.body.status === 'failed', reauth.text).to.equal(true);
    provider.behaviour.rejectRefresh = false;

    // --- Delete: oauth2 revoked at the provider; a failed revoke reported; nothing to revoke for an api_key.
    const revokedToken = provider.issued.filter((t) => t.startsWith('rt_')).at(-2);
    const deletedOAuth = await call('DELETE', `/api/v1/credentials/${oauth}`, { key });
    expectStatus(deletedOAuth, 200);
    expect(deletedOAuth.body).to.deep.equal({ id: oauth, deleted: true, revoked: true });
    expect(provider.calls.revoked).to.include(revokedToken);
    provider.behaviour.failRevoke = true;
    const deletedManual = await call('DELETE', `/api/v1/credentials/${manualOAuth}`, { key });
    expectStatus(deletedManual, 200);
    expect(deletedManual.body).to.include({ id: manualOAuth, deleted: true, revoked: false });
    expect(deletedManual.body.detail).to.be.a('string');
    provider.behaviour.failRevoke = false;
    const deletedKey = await call('DELETE', `/api/v1/credentials/${apiKeyCredential}`, { key });
    expect(deletedKey.body).to.deep.equal({ id: apiKeyCredential, deleted: true, revoked: null });
    expectStatus(await call('DELETE', `/api/v1/credentials/${apiKeyCredential}`, { key }), 404);

    // --- secrets rotate (generated key -> B) while a server with both runs, then a restart with B only.
    server = await start(`${KEY_B},${keyFile}`);
    const rotated = await cli(['secrets', 'rotate'], `${KEY_B},${keyFile}`);
    expect(rotated.result.stdout).to.match(/active key key-b: \d+ credential\(s\) scanned/);
    await whoami(userPassword, 'basic');
    server = await start(KEY_B);
    const [afterRestart] = await whoami(hostScoped, 'headers');
    expect(afterRestart!.headers['x-standin-token']).to.equal(HOST_HEADER);
    await whoami(userPassword, 'basic');
    await server.stop();

    // --- Every token the provider issued is a secret too.
    expect(provider.issued.length).to.be.greaterThan(5);
    for (const [i, token] of provider.issued.entries()) scanner.add(`provider token #${i} (${token.slice(0, 3)})`, token);

    // --- The scan: every response, every line any server process wrote, every CLI output, the database files.
    const sources: ScanSource[] = [
      ...http.sources(),
      ...servers.map((s, i) => ({ label: `server process #${i + 1} stdout+stderr`, text: s.output() })),
      ...cliRuns.flatMap(({ label, result }) => [
        { label: `${label} (stdout)`, text: result.stdout },
        { label: `${label} (stderr)`, text: result.stderr },
      ]),
      ...readdirSync(dataDir)
        .filter((f) => f.startsWith('blockyard.sqlite'))
        .map((f) => ({ label: `database file ${f}`, text: readFileSync(join(dataDir, f)).toString('latin1') })),
    ];
    expect(http.responses.length).to.be.greaterThan(40);
    expect(servers.every((s) => s.output().length > 1000)).to.equal(true);
    const findings = scanner.scan(sources);
    expect(findings, findings.map((f) => `${f.secret} (${f.form}) in ${f.source}`).join('\n')).to.deep.equal([]);

    // The one-time displays hold their key (the scan looks at the right text) and nothing else does.
    expect(scanner.count('admin API key (CLI)', sources)).to.equal(1);
    expect(scanner.count('API key (HTTP)', sources)).to.equal(1);
    expect(scanner.count('session id', sources)).to.equal(1);
    // And it would have caught a leak: the same sources with one secret planted in a log line.
    const planted = scanner.scan([...sources, { label: 'planted', text: `{"msg":"outbound","authorization":"Basic ${Buffer.from(`ann:${UP_PASSWORD}`).toString('base64')}"}` }]);
    expect(planted).to.deep.equal([{ secret: 'user_password password', form: 'base64@1', source: 'planted' }]);
  });
});
