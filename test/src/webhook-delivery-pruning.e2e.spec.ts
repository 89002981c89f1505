// Pruning of old inbound webhook delivery records by the real server: records are written into
// its SQLite file beforehand (received days ago), then the server, at start, forgets those older
// than BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS and keeps the rest. The server is pinned to SQLite
// and the memory queue (also in the PostgreSQL + BullMQ run): the records are written there.
import { expect } from 'chai';
import { WebhookRepository } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, runServerToExit, startServerProcess, type ServerProcess } from './support/server-process.js';

const DAY = 86_400_000;
const WEBHOOK_ID = 'webhook-pruning-e2e';
/** The SQLite file in the data dir and the memory queue, whatever the run's environment says. */
const ON_SQLITE = { BLOCKYARD_DATABASE_URL: '', BLOCKYARD_QUEUE: 'memory', BLOCKYARD_ROLE: 'all' };

describe('webhook delivery records are pruned by the server (SQLite)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: ServerProcess | undefined;

  /** Runs `fn` on the WebhookRepository of the server's database, outside the server. */
  async function withWebhooks<T>(fn: (webhooks: WebhookRepository) => Promise<T>): Promise<T> {
    const blockyard = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    try {
      return await fn(blockyard.container.get<WebhookRepository>(WebhookRepository));
    } finally {
      await blockyard.close();
    }
  }

  const stored = () => withWebhooks(async (webhooks) => {
    const kept: string[] = [];
    for (const id of ['twelve-days-old', 'eight-days-old', 'an-hour-old']) if (await webhooks.getDelivery(WEBHOOK_ID, id)) kept.push(id);
    return kept;
  });

  /** Starts the server and waits for its pruning line (written once the first run ended). */
  async function startAndAwaitPruning(env: Record<string, string>): Promise<Record<string, unknown>> {
    server = await startServerProcess({ ...ON_SQLITE, ...env }, dataDir);
    for (let i = 0; i < 200 && !server.logs.some((l) => l.msg === 'old webhook delivery records pruned'); i++) await new Promise((r) => setTimeout(r, 50));
    const line = server.logs.find((l) => l.msg === 'old webhook delivery records pruned');
    expect(line, server.output()).to.not.equal(undefined);
    await server.stop();
    server = undefined;
    return line!;
  }

  before(async () => {
    dataDir = makeDataDir();
    await withWebhooks(async (webhooks) => {
      const now = Date.now();
      await webhooks.create({
        id: WEBHOOK_ID,
        userId: 'someone',
        agentId: 'agent-pruning-e2e',
        triggerNodeId: 'on-issue',
        blockId: 'github.issue_event',
        provider: 'github',
        events: ['issues'],
        mode: 'manual',
        // Never opened here: pruning does not look at the secret.
        secret: { keyId: 'unused', nonce: 'AAAAAAAAAAAAAAAA', ciphertext: 'AAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' },
        config: {},
        credentialId: null,
        externalId: null,
        status: 'active',
        createdAt: new Date(now - 20 * DAY),
        updatedAt: new Date(now - 20 * DAY),
      });
      for (const [deliveryId, ago] of [['twelve-days-old', 12 * DAY], ['eight-days-old', 8 * DAY], ['an-hour-old', 3_600_000]] as const) {
        expect(await webhooks.recordDelivery({ webhookId: WEBHOOK_ID, deliveryId, eventType: 'issues', receivedAt: new Date(now - ago) })).to.equal(true);
      }
    });
    expect(await stored()).to.deep.equal(['twelve-days-old', 'eight-days-old', 'an-hour-old']);
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  it('keeps what BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS=10 says: forgets the 12-day-old record at start', async () => {
    const line = await startAndAwaitPruning({ BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS: '10' });
    expect(line.count).to.equal(1);
    expect(await stored()).to.deep.equal(['eight-days-old', 'an-hour-old']);
  });

  it('by default keeps 7 days: forgets the 8-day-old record, keeps the recent one and the webhook', async () => {
    const line = await startAndAwaitPruning({});
    expect(line.count).to.equal(1);
    expect(await stored()).to.deep.equal(['an-hour-old']);
    expect(await withWebhooks((webhooks) => webhooks.get(WEBHOOK_ID))).to.include({ id: WEBHOOK_ID, status: 'active' });
  });

  it('refuses a keep period under a day at start, naming the variable (exit 2)', async () => {
    const { code, output } = await runServerToExit({ ...ON_SQLITE, BLOCKYARD_DATA_DIR: dataDir, PORT: '0', BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS: '0' });
    expect(code).to.equal(2);
    expect(output).to.contain('BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS must be an integer from 1 to 3650');
  });
});
