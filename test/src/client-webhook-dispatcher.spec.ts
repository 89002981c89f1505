// The outbound webhook dispatcher on a fake clock: its retry schedule, 410, 3xx, timeouts, the
// domain re-check, Retry-After, and several dispatchers sharing one outbox (memory, SQLite,
// PostgreSQL). Then the same dispatcher over the real outbound HTTP adapter and local servers.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import {
  ClientWebhookDispatcher,
  clientWebhookDeliveryId,
  DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS,
  FakeClock,
  OutboundRequestError,
  silentLogger,
  type ClientWebhookDelivery,
  type ClientWebhookRepository,
  type FetchRequest,
  type FetchResponse,
  type OAuthClient,
  type OutboundHttp,
} from '@blockyard/core';
import { InMemoryClientWebhookRepository, InMemoryOAuthClientRepository } from '@blockyard/storage-memory';
import { createKnexStorage, type KnexStorage } from '@blockyard/storage-knex';
import { NodeOutboundHttp } from '@blockyard/http-outbound';
import { createPostgresDatabase } from './support/postgres-database.js';

const SECRET = 'whsec_' + Buffer.alloc(32, 0xfb).toString('base64url'); // has '-' and '_' in it
const URL_A = 'https://hooks.example.com/in';
const URL_B = 'https://other.hooks.example.com/in';

interface Sent {
  url: string;
  request: FetchRequest;
  at: Date;
}

/** OutboundHttp answering from `answer`, recording every request and when (on the fake clock) it was made. */
function outboundMock(clock: FakeClock, answer: (url: string, request: FetchRequest) => Promise<Partial<FetchResponse>> | Partial<FetchResponse>): OutboundHttp & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    createFetch: () =>
      (async (url: string, request?: FetchRequest) => {
        sent.push({ url, request: request ?? {}, at: clock.now() });
        const res = await answer(url, request ?? {});
        const status = res.status ?? 200;
        return { status, ok: status >= 200 && status < 300, headers: res.headers ?? {}, data: '', url };
      }) as never,
  };
}

function clientFixture(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
    id: 'app_spec',
    userId: 'user-1',
    name: 'Spec app',
    description: '',
    type: 'confidential',
    secretHash: 'x',
    redirectUris: ['https://app.example.com/cb'],
    webhookDomains: ['hooks.example.com', '*.hooks.example.com', '127.0.0.1'],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
    ...overrides,
  };
}

let sequence = 0;
function deliveryFixture(clock: FakeClock, overrides: Partial<ClientWebhookDelivery> = {}): ClientWebhookDelivery {
  const url = overrides.url ?? URL_A;
  const eventKey = overrides.eventKey ?? `execution.finished:exec-${++sequence}`;
  const timestamp = clock.now().toISOString();
  return {
    id: clientWebhookDeliveryId(overrides.clientId ?? 'app_spec', url, eventKey),
    clientId: 'app_spec',
    url,
    event: 'execution.completed',
    eventKey,
    body: JSON.stringify({ event: 'execution.completed', timestamp, data: { execution_id: eventKey, status: 'completed', outputs: { '10': ['ten'], b: [{ 'ü': 'é' }], '2': [2] } } }),
    timestamp,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: clock.now(),
    lastStatus: null,
    lastError: null,
    createdAt: clock.now(),
    updatedAt: clock.now(),
    deliveredAt: null,
    ...overrides,
  };
}

async function setup(answer: Parameters<typeof outboundMock>[1], options: { client?: Partial<OAuthClient>; retryScheduleMs?: number[] } = {}) {
  const clock = new FakeClock(new Date());
  const deliveries = new InMemoryClientWebhookRepository();
  const clients = new InMemoryOAuthClientRepository();
  await clients.create(clientFixture(options.client));
  const outbound = outboundMock(clock, answer);
  const dispatcher = new ClientWebhookDispatcher(
    { deliveries, clients, webhookSecret: () => SECRET, outbound, clock, logger: silentLogger },
    { jitter: 0, timeoutMs: 15_000, ...(options.retryScheduleMs ? { retryScheduleMs: options.retryScheduleMs } : {}) },
  );
  return { clock, deliveries, clients, outbound, dispatcher };
}

describe('ClientWebhookDispatcher (fake clock)', () => {
  it('POSTs the stored body with both signatures, as the guide and Standard Webhooks verify them', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 204 }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    expect(await dispatcher.dispatchDue()).to.equal(1);
    expect(outbound.sent).to.have.length(1);
    const { url, request, at } = outbound.sent[0]!;
    expect(url).to.equal(URL_A);
    // Only the answer's status (and Retry-After) is used: its body is not kept.
    expect(request).to.include({ method: 'POST', body: delivery.body, retry: false, redirect: 'manual', timeoutMs: 15_000, discardBody: true });
    const headers = request.headers!;
    expect(headers['content-type']).to.equal('application/json');
    // The guide: the receiver parses the body (express.json) and signs JSON.stringify(req.body).
    const reqBody = JSON.parse(request.body as string) as { timestamp: string };
    const expected = createHmac('sha256', SECRET).update(JSON.stringify(reqBody)).digest('hex');
    expect(headers['x-webhook-signature']).to.equal(`sha256=${expected}`);
    expect(headers['x-webhook-signature']).to.equal(`sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`);
    expect(headers['x-webhook-timestamp']).to.equal(reqBody.timestamp);
    // Standard Webhooks, with its reference library (which wants the standard base64 alphabet).
    expect(headers['webhook-id']).to.equal(delivery.id);
    expect(headers['webhook-timestamp']).to.equal(String(Math.floor(at.getTime() / 1000)));
    const standardSecret = 'whsec_' + Buffer.from(SECRET.slice(6), 'base64url').toString('base64');
    expect(headers['webhook-signature']).to.equal(new Webhook(standardSecret).sign(delivery.id, at, delivery.body));
    expect(new Webhook(standardSecret).verify(delivery.body, headers)).to.deep.equal(JSON.parse(delivery.body));
    const stored = await deliveries.get(delivery.id);
    expect(stored).to.include({ status: 'delivered', attempts: 1, lastStatus: 204, lastError: null, nextAttemptAt: null });
    expect(stored?.deliveredAt?.getTime()).to.equal(clock.now().getTime());
  });

  it('retries on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h) and gives up after the 7th attempt', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 500 }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    const start = clock.now().getTime();
    expect(await dispatcher.dispatchDue()).to.equal(1);
    let elapsed = 0;
    for (const wait of DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS) {
      const stored = await deliveries.get(delivery.id);
      expect(stored?.status).to.equal('pending');
      expect(stored?.lastStatus).to.equal(500);
      expect(stored?.nextAttemptAt?.getTime()).to.equal(start + elapsed + wait);
      clock.advance(wait - 1);
      expect(await dispatcher.dispatchDue(), 'not before it is due').to.equal(0);
      clock.advance(1);
      elapsed += wait;
      expect(await dispatcher.dispatchDue()).to.equal(1);
    }
    expect(outbound.sent.map((s) => s.at.getTime() - start)).to.deep.equal([0, 5_000, 305_000, 2_105_000, 9_305_000, 27_305_000, 63_305_000]);
    const given = await deliveries.get(delivery.id);
    expect(given).to.include({ status: 'failed', attempts: 7, nextAttemptAt: null, lastStatus: 500 });
    expect(given?.lastError).to.equal('answered 500; given up after 7 attempts');
    clock.advance(100 * 3_600_000);
    expect(await dispatcher.dispatchDue()).to.equal(0);
  });

  it('delivers on the retry after a 500', async () => {
    let calls = 0;
    const { clock, deliveries, dispatcher } = await setup(() => ({ status: ++calls === 1 ? 500 : 200 }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    clock.advance(5_000);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(delivery.id)).to.include({ status: 'delivered', attempts: 2, lastStatus: 200, lastError: null });
  });

  it('spreads retries by the jitter', async () => {
    const clock = new FakeClock(new Date());
    const deliveries = new InMemoryClientWebhookRepository();
    const clients = new InMemoryOAuthClientRepository();
    await clients.create(clientFixture());
    const dispatcher = new ClientWebhookDispatcher(
      { deliveries, clients, webhookSecret: () => SECRET, outbound: outboundMock(clock, () => ({ status: 500 })), clock, logger: silentLogger },
      { jitter: 0.1, random: () => 0 },
    );
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    expect((await deliveries.get(delivery.id))?.nextAttemptAt?.getTime()).to.equal(clock.now().getTime() + 4_500);
  });

  it('waits as long as Retry-After asks when that is longer than the schedule', async () => {
    const { clock, deliveries, dispatcher } = await setup(() => ({ status: 503, headers: { 'retry-after': '120' } }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    expect((await deliveries.get(delivery.id))?.nextAttemptAt?.getTime()).to.equal(clock.now().getTime() + 120_000);
  });

  it('counts a 3xx as a failure and follows no redirect', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 302, headers: { location: 'https://elsewhere.example.com/' } }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    const stored = await deliveries.get(delivery.id);
    expect(stored).to.include({ status: 'pending', attempts: 1, lastStatus: 302 });
    expect(stored?.lastError).to.contain('redirects are not followed');
    expect(outbound.sent.map((s) => s.url)).to.deep.equal([URL_A]);
    expect(outbound.sent[0]!.request.redirect).to.equal('manual');
  });

  it('counts a timeout as a failure and retries', async () => {
    const { clock, deliveries, dispatcher } = await setup(() => {
      throw new OutboundRequestError('timeout', 'POST https://hooks.example.com/in: no complete response within 15000 ms');
    });
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(delivery.id)).to.include({ status: 'pending', attempts: 1, lastStatus: null, lastError: 'no answer within 15000 ms' });
  });

  it('disables the endpoint on 410: that delivery and the others pending to the URL are never sent, other URLs are', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup((url) => ({ status: url === URL_A ? 410 : 200 }));
    const first = deliveryFixture(clock);
    const later = deliveryFixture(clock, { nextAttemptAt: new Date(clock.now().getTime() + 60_000) });
    const other = deliveryFixture(clock, { url: URL_B });
    for (const d of [first, later, other]) await deliveries.enqueue(d);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(first.id)).to.include({ status: 'disabled', attempts: 1, lastStatus: 410 });
    expect(await deliveries.get(other.id)).to.include({ status: 'delivered' });
    expect((await deliveries.getEndpoint('app_spec', URL_A))?.disabledAt).to.be.instanceOf(Date);
    expect(await deliveries.get(later.id)).to.include({ status: 'disabled', attempts: 0 });
    // A delivery that slipped in pending afterwards is not sent either.
    const slipped = deliveryFixture(clock);
    await deliveries.enqueue(slipped);
    clock.advance(3_600_000);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(slipped.id)).to.include({ status: 'disabled', attempts: 1, lastStatus: null });
    expect(outbound.sent.map((s) => s.url)).to.deep.equal([URL_A, URL_B]);
    // Named again on an execute, the endpoint receives again.
    await deliveries.useEndpoint('app_spec', URL_A, clock.now());
    const fresh = deliveryFixture(clock);
    await deliveries.enqueue(fresh);
    await dispatcher.dispatchDue();
    expect(outbound.sent).to.have.length(3);
  });

  it("checks the client's webhook domains again before sending, and fails a URL no longer allowed", async () => {
    const { clock, deliveries, clients, outbound, dispatcher } = await setup(() => ({ status: 200 }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await clients.update('app_spec', { webhookDomains: ['elsewhere.example.com'], updatedAt: clock.now() });
    await dispatcher.dispatchDue();
    const stored = await deliveries.get(delivery.id);
    expect(stored).to.include({ status: 'failed', attempts: 1, lastStatus: null });
    expect(stored?.lastError).to.equal("not sent: the webhook URL its host hooks.example.com is not in the client's webhook_domains");
    expect(outbound.sent).to.have.length(0);
  });

  it('fails plain http to a host other than localhost, unsent', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 200 }));
    const delivery = deliveryFixture(clock, { url: 'http://hooks.example.com/in' });
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    expect((await deliveries.get(delivery.id))?.lastError).to.contain('must use https');
    expect(outbound.sent).to.have.length(0);
  });

  it('fails deliveries of a deleted client, and an internal address, at once', async () => {
    const { clock, deliveries, clients, dispatcher } = await setup(() => {
      throw new OutboundRequestError('blocked_address', 'request to 10.0.0.7 blocked: private address');
    });
    const blocked = deliveryFixture(clock);
    await deliveries.enqueue(blocked);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(blocked.id)).to.include({ status: 'failed', attempts: 1 });
    expect((await deliveries.get(blocked.id))?.lastError).to.contain('internal addresses never receive webhooks');
    await clients.delete('app_spec');
    const orphan = deliveryFixture(clock);
    await deliveries.enqueue(orphan);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(orphan.id)).to.include({ status: 'failed', lastError: 'not sent: the OAuth client was deleted' });
  });

  it('holds the deliveries of a disabled client on the retry schedule, unsent', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 200 }), { client: { disabledAt: new Date(0) } });
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    expect(await deliveries.get(delivery.id)).to.include({ status: 'pending', attempts: 1, lastError: 'not sent: the OAuth client is disabled' });
    expect(outbound.sent).to.have.length(0);
  });

  it('retries, unsent, while the signing secret cannot be opened, and never puts the cause in the error', async () => {
    const clock = new FakeClock(new Date());
    const deliveries = new InMemoryClientWebhookRepository();
    const clients = new InMemoryOAuthClientRepository();
    await clients.create(clientFixture());
    const outbound = outboundMock(clock, () => ({ status: 200 }));
    const webhookSecret = () => {
      throw new Error('no key k-old to open the secret whsec_leaked');
    };
    const dispatcher = new ClientWebhookDispatcher({ deliveries, clients, webhookSecret, outbound, clock, logger: silentLogger }, { jitter: 0 });
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await dispatcher.dispatchDue();
    const stored = await deliveries.get(delivery.id);
    expect(stored).to.include({ status: 'pending', attempts: 1 });
    expect(stored?.lastError).to.contain('cannot be opened').and.not.contain('whsec_');
    expect(outbound.sent).to.have.length(0);
  });

  it('sends a delivery whose dispatcher died holding it once the claim lapses', async () => {
    const { clock, deliveries, outbound, dispatcher } = await setup(() => ({ status: 200 }));
    const delivery = deliveryFixture(clock);
    await deliveries.enqueue(delivery);
    await deliveries.claimDue(clock.now(), new Date(clock.now().getTime() + 75_000), 10); // and then it crashed
    expect(await dispatcher.dispatchDue()).to.equal(0);
    clock.advance(75_000);
    expect(await dispatcher.dispatchDue()).to.equal(1);
    expect(outbound.sent).to.have.length(1);
    expect(await deliveries.get(delivery.id)).to.include({ status: 'delivered' });
  });

  it('opens a client’s signing secret once for many deliveries, and again once the secret was rotated', async () => {
    const clock = new FakeClock(new Date());
    const deliveries = new InMemoryClientWebhookRepository();
    const clients = new InMemoryOAuthClientRepository();
    await clients.create(clientFixture());
    const opened: string[] = [];
    const rotated = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const outbound = outboundMock(clock, () => ({ status: 200 }));
    const dispatcher = new ClientWebhookDispatcher({
      deliveries,
      clients,
      webhookSecret: (client) => {
        opened.push(client.webhookSecret.ciphertext);
        return client.webhookSecret.ciphertext === 'c' ? SECRET : rotated;
      },
      outbound,
      clock,
      logger: silentLogger,
    });
    /** Whether the last request sent was signed with `secret`. */
    const lastSignedWith = (secret: string): boolean => {
      const { request } = outbound.sent.at(-1)!;
      return request.headers!['x-webhook-signature'] === `sha256=${createHmac('sha256', secret).update(request.body as string).digest('hex')}`;
    };
    for (let i = 0; i < 3; i++) await deliveries.enqueue(deliveryFixture(clock));
    expect(await dispatcher.dispatchDue()).to.equal(3);
    expect(opened).to.deep.equal(['c']);
    expect(lastSignedWith(SECRET)).to.equal(true);
    await clients.update('app_spec', { webhookSecret: { keyId: 'k', nonce: 'n2', ciphertext: 'c2', tag: 't2' }, updatedAt: clock.now() });
    await deliveries.enqueue(deliveryFixture(clock));
    expect(await dispatcher.dispatchDue()).to.equal(1);
    expect(opened).to.deep.equal(['c', 'c2']);
    expect(lastSignedWith(rotated)).to.equal(true);
    // Back to the first sealed secret: opened again, and signed with it again.
    await clients.update('app_spec', { webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' }, updatedAt: clock.now() });
    await deliveries.enqueue(deliveryFixture(clock));
    expect(await dispatcher.dispatchDue()).to.equal(1);
    expect(opened).to.deep.equal(['c', 'c2', 'c']);
    expect(lastSignedWith(SECRET)).to.equal(true);
  });

  describe('send (a delivery handed over by the enqueue of this process)', () => {
    it('sends at once, without reading the delivery back, and records the result on the claim it was stored with', async () => {
      const { clock, deliveries, clients, outbound, dispatcher } = await setup(() => ({ status: 200 }));
      const delivery = deliveryFixture(clock);
      const claim = { leaseToken: 'handed-over', leaseUntil: new Date(clock.now().getTime() + dispatcher.leaseMs) };
      const stored = deliveries.enqueue(delivery, claim);
      dispatcher.send({ delivery, ...claim }, (await clients.get('app_spec'))!, stored);
      await dispatcher.drain();
      expect(outbound.sent.map((s) => s.url)).to.deep.equal([URL_A]);
      expect(await deliveries.get(delivery.id)).to.include({ status: 'delivered', attempts: 1 });
      expect(await dispatcher.dispatchDue()).to.equal(0);
    });

    it('records nothing when the row turned out to be stored by someone else, who sends it on its own claim', async () => {
      const { clock, deliveries, clients, dispatcher } = await setup(() => ({ status: 200 }));
      const delivery = deliveryFixture(clock);
      await deliveries.enqueue(delivery); // another process stored it first, unclaimed
      const claim = { leaseToken: 'handed-over', leaseUntil: new Date(clock.now().getTime() + dispatcher.leaseMs) };
      dispatcher.send({ delivery, ...claim }, (await clients.get('app_spec'))!, deliveries.enqueue(delivery, claim));
      await dispatcher.drain();
      expect(await deliveries.get(delivery.id)).to.include({ status: 'pending', attempts: 0 });
      expect(await dispatcher.dispatchDue()).to.equal(1);
      expect(await deliveries.get(delivery.id)).to.include({ status: 'delivered', attempts: 1 });
    });

    it('retries a failed attempt on the schedule like any other', async () => {
      const { clock, deliveries, clients, dispatcher } = await setup(() => ({ status: 503 }));
      const delivery = deliveryFixture(clock);
      const claim = { leaseToken: 'handed-over', leaseUntil: new Date(clock.now().getTime() + dispatcher.leaseMs) };
      dispatcher.send({ delivery, ...claim }, (await clients.get('app_spec'))!, deliveries.enqueue(delivery, claim));
      await dispatcher.drain();
      const stored = await deliveries.get(delivery.id);
      expect(stored).to.include({ status: 'pending', attempts: 1, lastStatus: 503 });
      expect(stored!.nextAttemptAt!.getTime() - clock.now().getTime()).to.equal(DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS[0]);
    });
  });

  describe('several dispatchers on one outbox deliver each delivery once', () => {
    async function race(repos: ClientWebhookRepository[]): Promise<void> {
      const clock = new FakeClock(new Date());
      const clients = new InMemoryOAuthClientRepository();
      await clients.create(clientFixture());
      const count = new Map<string, number>();
      const outbound = outboundMock(clock, async (_url, request) => {
        const id = request.headers!['webhook-id']!;
        count.set(id, (count.get(id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2)); // let the others run meanwhile
        return { status: 200 };
      });
      const dispatchers = repos.map((deliveries) => new ClientWebhookDispatcher({ deliveries, clients, webhookSecret: () => SECRET, outbound, clock, logger: silentLogger }, { batchSize: 4 }));
      const all = Array.from({ length: 40 }, () => deliveryFixture(clock));
      for (const d of all) await repos[0]!.enqueue(d);
      await Promise.all(dispatchers.flatMap((d) => [d.dispatchDue(), d.dispatchDue()]));
      expect([...count.values()].every((n) => n === 1), 'no delivery sent twice').to.equal(true);
      expect(count.size).to.equal(all.length);
      for (const d of all) expect((await repos[0]!.get(d.id))?.status).to.equal('delivered');
    }

    it('in memory', async () => {
      const repo = new InMemoryClientWebhookRepository();
      await race([repo, repo, repo]);
    });

    it('on SQLite, each dispatcher with its own connections', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-webhooks-'));
      const storages: KnexStorage[] = [];
      try {
        for (let i = 0; i < 3; i++) storages.push(await createKnexStorage({ dataDir }));
        await race(storages.map((s) => s.clientWebhooks));
      } finally {
        for (const s of storages) await s.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('on PostgreSQL, each dispatcher with its own pool', async () => {
      const db = await createPostgresDatabase();
      const storages: KnexStorage[] = [];
      try {
        for (let i = 0; i < 3; i++) storages.push(await createKnexStorage({ databaseUrl: db.url }));
        await race(storages.map((s) => s.clientWebhooks));
      } finally {
        for (const s of storages) await s.close();
        await db.drop();
      }
    });
  });
});

describe('ClientWebhookDispatcher over the real outbound HTTP adapter', () => {
  const servers: Server[] = [];
  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; hits: string[] }> {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      handler(req, res);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
  }
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function dispatcherOver(outbound: NodeOutboundHttp, timeoutMs = 5_000) {
    const clock = new FakeClock(new Date());
    const deliveries = new InMemoryClientWebhookRepository();
    const clients = new InMemoryOAuthClientRepository();
    await clients.create(clientFixture());
    const dispatcher = new ClientWebhookDispatcher({ deliveries, clients, webhookSecret: () => SECRET, outbound, clock, logger: silentLogger }, { jitter: 0, timeoutMs });
    return { clock, deliveries, dispatcher };
  }

  it('gives up an attempt after the timeout and schedules the retry', async () => {
    const slow = await listen(() => undefined); // never answers
    const outbound = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'] });
    try {
      const { clock, deliveries, dispatcher } = await dispatcherOver(outbound, 200);
      const delivery = deliveryFixture(clock, { url: `${slow.url}/hook` });
      await deliveries.enqueue(delivery);
      await dispatcher.dispatchDue();
      expect(await deliveries.get(delivery.id)).to.include({ status: 'pending', attempts: 1, lastStatus: null, lastError: 'no answer within 200 ms' });
      expect(slow.hits).to.deep.equal(['/hook']);
    } finally {
      await outbound.close();
    }
  });

  it('does not follow a 302 to another endpoint', async () => {
    const target = await listen((_req, res) => res.writeHead(200).end());
    const redirecting = await listen((_req, res) => res.writeHead(302, { location: `${target.url}/landing` }).end());
    const outbound = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'] });
    try {
      const { clock, deliveries, dispatcher } = await dispatcherOver(outbound);
      const delivery = deliveryFixture(clock, { url: `${redirecting.url}/hook` });
      await deliveries.enqueue(delivery);
      await dispatcher.dispatchDue();
      expect(await deliveries.get(delivery.id)).to.include({ status: 'pending', lastStatus: 302 });
      expect(redirecting.hits).to.deep.equal(['/hook']);
      expect(target.hits).to.deep.equal([]);
    } finally {
      await outbound.close();
    }
  });

  it("refuses an internal address through the SSRF guard when it is not allowed, whatever the client's domains say", async () => {
    const local = await listen((_req, res) => res.writeHead(200).end());
    const outbound = new NodeOutboundHttp();
    try {
      const { clock, deliveries, dispatcher } = await dispatcherOver(outbound);
      const delivery = deliveryFixture(clock, { url: `${local.url}/hook` });
      await deliveries.enqueue(delivery);
      await dispatcher.dispatchDue();
      expect(await deliveries.get(delivery.id)).to.include({ status: 'failed', attempts: 1 });
      expect((await deliveries.get(delivery.id))?.lastError).to.contain('blocked');
      expect(local.hits).to.deep.equal([]);
    } finally {
      await outbound.close();
    }
  });

  it('sends the exact body bytes and headers on the wire', async () => {
    let received: { body: string; headers: IncomingMessage['headers'] } | null = null;
    const receiver = await listen((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received = { body, headers: req.headers };
        res.writeHead(200).end('ok');
      });
    });
    const outbound = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'] });
    try {
      const { clock, deliveries, dispatcher } = await dispatcherOver(outbound);
      const delivery = deliveryFixture(clock, { url: `${receiver.url}/hook` });
      await deliveries.enqueue(delivery);
      await dispatcher.dispatchDue();
      expect(await deliveries.get(delivery.id)).to.include({ status: 'delivered', lastStatus: 200 });
      const got = received as unknown as { body: string; headers: IncomingMessage['headers'] };
      expect(got.body).to.equal(delivery.body);
      expect(got.headers['x-webhook-signature']).to.equal(`sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`);
      expect(got.headers['content-type']).to.equal('application/json');
      expect(got.headers['webhook-id']).to.equal(delivery.id);
    } finally {
      await outbound.close();
    }
  });
});
