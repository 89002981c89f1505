import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';
import { createPostgresDatabase } from './support/postgres-database.js';
import { STANDIN_PROVIDER, STANDIN_WHOAMI, standInPluginFixture } from './support/standin-plugin.js';
import { startOAuthProvider, type OAuthProviderStandIn } from './support/stand-ins/oauth-provider.js';

/** How the two processes share their database. */
interface SharedStorage {
  name: string;
  /** Env for both processes (and the CLI); `dataDirs` are theirs, one each or one shared. */
  open(): Promise<{ env: Record<string, string>; dataDirs: [string, string]; close(): Promise<void> }>;
}

const POSTGRES: SharedStorage = {
  name: 'one PostgreSQL database (a fresh one for this run)',
  async open() {
    const database = await createPostgresDatabase();
    const dataDirs: [string, string] = [makeDataDir(), makeDataDir()];
    return {
      env: { BLOCKYARD_DATABASE_URL: database.url },
      dataDirs,
      async close() {
        await database.drop();
        for (const dir of dataDirs) removeDataDir(dir);
      },
    };
  },
};

const SQLITE: SharedStorage = {
  name: 'one SQLite file',
  async open() {
    const dir = makeDataDir();
    return { env: {}, dataDirs: [dir, dir], close: async () => removeDataDir(dir) };
  },
};

for (const storage of [POSTGRES, SQLITE]) {
  describe(`OAuth refresh across two server processes over ${storage.name}`, function () {
    this.timeout(120_000);
    let provider: OAuthProviderStandIn;
    let pluginDir: string;
    let shared: Awaited<ReturnType<SharedStorage['open']>>;
    const servers: ServerProcess[] = [];

    before(async () => {
      provider = await startOAuthProvider();
      pluginDir = standInPluginFixture(provider);
      shared = await storage.open();
    });

    after(async () => {
      for (const server of servers) await server.stop();
      await provider?.close();
      await shared?.close();
      if (pluginDir) removeDataDir(pluginDir);
    });

    it('50 concurrent runs on one expiring oauth2 credential, split across both: one refresh grant at the provider, every run uses the new token', async () => {
      const keys = `shared:${randomBytes(32).toString('base64')}`;
      const common = {
        ...shared.env,
        BLOCKYARD_ENCRYPTION_KEYS: keys,
        BLOCKYARD_PLUGINS: pluginDir,
        BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
        BLOCKYARD_OAUTH_STANDIN_CLIENT_ID: provider.clientId,
        BLOCKYARD_OAUTH_STANDIN_CLIENT_SECRET: provider.clientSecret,
      };
      const apiKey = await createKey(['EXECUTE_BLOCK', 'READ_RUN', 'READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS'], { ...common, BLOCKYARD_DATA_DIR: shared.dataDirs[0] });
      for (const dataDir of shared.dataDirs) {
        const port = await freePort();
        servers.push(await startServerProcess({ ...common, PORT: String(port), BLOCKYARD_PUBLIC_URL: `http://127.0.0.1:${port}` }, dataDir));
      }
      const [a, b] = servers as [ServerProcess, ServerProcess];
      expect(a.child.pid).not.to.equal(b.child.pid);

      // Connect through process A; the provider's token expires in a minute (inside the 5-minute refresh margin).
      provider.behaviour.expiresIn = 60;
      const login = await request(a.url, 'GET', `/api/v1/integrations/${STANDIN_PROVIDER}/login`, { key: apiKey });
      expect(login.status, JSON.stringify(login.body)).to.equal(200);
      const back = await provider.authorize(login.body.login_url);
      const connected = await request(a.url, 'GET', `${back.pathname}${back.search}`);
      expect(connected.status, JSON.stringify(connected.body)).to.equal(201);
      const credentialId = connected.body.id as string;
      // Process B sees it, about to expire.
      const seen = await request(b.url, 'GET', '/api/v1/credentials', { key: apiKey });
      const stored = (seen.body as Array<{ id: string; expires_at: string }>).find((c) => c.id === credentialId);
      expect(new Date(stored!.expires_at).getTime() - Date.now()).to.be.below(5 * 60_000);

      // A slow token endpoint widens the window in which the runs of both processes race.
      provider.behaviour.expiresIn = 3600;
      provider.behaviour.delayMs = 300;
      const grantsBefore = provider.calls.refreshToken;
      const apiBefore = provider.apiRequests.length;
      const runs = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          // Even runs go to A, odd ones to B: each process's own worker runs them.
          request(i % 2 ? b.url : a.url, 'POST', `/api/v1/blocks/${STANDIN_WHOAMI}/execute?wait=30`, { key: apiKey, body: { inputs: { credentials: { id: credentialId } } } }),
        ),
      );

      expect(provider.calls.refreshToken - grantsBefore, 'refresh_token grants at the provider').to.equal(1);
      expect(provider.refreshedAccessTokens).to.have.length(1);
      const newToken = provider.refreshedAccessTokens[0]!;
      for (const run of runs) {
        expect(run.status, JSON.stringify(run.body)).to.equal(200);
        expect(run.body.status, JSON.stringify(run.body)).to.equal('completed');
        expect(run.body.outputs).to.deep.equal({ status: [200], login: ['standin-user'], via: ['oauth2'] });
      }
      const calls = provider.apiRequests.slice(apiBefore);
      expect(calls).to.have.length(50);
      expect(new Set(calls.map((c) => c.bearer))).to.deep.equal(new Set([newToken]));

      const after = await request(b.url, 'GET', '/api/v1/credentials', { key: apiKey });
      const refreshed = (after.body as Array<{ id: string; status: string; expires_at: string }>).find((c) => c.id === credentialId)!;
      expect(refreshed.status).to.equal('active');
      expect(new Date(refreshed.expires_at).getTime()).to.be.greaterThan(Date.now() + 50 * 60_000);
    });
  });
}
