// Outbound webhooks, the enqueueing side, in one process on the memory adapters: execution
// events for executions with a webhook target (from the lifecycle listener, and from
// reconciliation after a crash), grant.revoked, the owner's listing, client deletion.
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { Container } from 'inversify';
import {
  BlockRegistry,
  ClientWebhookRepository,
  ClientWebhookService,
  clientWebhookModule,
  coreModule,
  DomainError,
  ExecutionLifecycleListener,
  ExecutionRepository,
  ExecutionRunner,
  ExecutionService,
  FakeClock,
  Logger,
  OAuthClientRepository,
  OutboundHttp,
  UserService,
  type Block,
  type ClientWebhookAttemptResult,
  type ClientWebhookDelivery,
  type ClientWebhookTargetStage,
  type Execution,
  type OAuthClient,
} from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';
import { waitFor } from './support/wait-for.js';

const echo: Block = {
  definition: { id: 't.echo', name: 'Echo', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object', properties: { text: {} } } },
  async *handler(inputs) {
    yield ['text', inputs.text];
  },
};
/** Outputs whose JSON is easy to get wrong: integer-like keys, unicode, escapes, -0, big and tiny numbers, a lone surrogate. */
const rich: Block = {
  definition: { id: 't.rich', name: 'Rich', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object', properties: { value: {} } } },
  async *handler() {
    yield ['value', { b: 1, '10': 'ten', '2': 'two', 'ü ✓ 🚀': 'é\u2028\n"\\/', negZero: -0, big: 1e21, tiny: 5e-324, sum: 0.1 + 0.2, lone: '\ud800', nested: [{ z: null, a: [] }] }];
  },
};
const boom: Block = {
  definition: { id: 't.boom', name: 'Boom', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object' } },
  handler: async () => ({ error: 'the provider said no' }),
};

const URL_A = 'https://hooks.example.com/in';

async function compose(options: { logger?: Logger } = {}) {
  const clock = new FakeClock(new Date());
  const container = new Container();
  container.load(coreModule({ clock, logger: options.logger }), memoryStorageModule(), memoryQueueModule(), clientWebhookModule());
  container.bind(OutboundHttp).toConstantValue({ createFetch: () => { throw new Error('no HTTP in this spec'); } });
  container.get<BlockRegistry>(BlockRegistry).registerAll([echo, rich, boom], 'spec');
  const users = container.get(UserService);
  const alice = await users.createUser({ email: 'alice@example.com', name: 'Alice' });
  const bob = await users.createUser({ email: 'bob@example.com', name: 'Bob' });
  const clients = container.get<OAuthClientRepository>(OAuthClientRepository);
  const client = clientFixture({ id: 'app_one', userId: alice.id });
  await clients.create(client);
  await clients.create(clientFixture({ id: 'app_two', userId: bob.id }));
  const webhooks = container.get(ClientWebhookService);
  const repo = container.get<ClientWebhookRepository>(ClientWebhookRepository);
  const executions = container.get(ExecutionService);
  const runner = container.get(ExecutionRunner);
  /** An execution of `blockId` for the app, with a webhook target, run to its end. */
  const run = async (blockId: string, inputs: Record<string, unknown> = { text: 'hi' }, clientId = 'app_one', url = URL_A): Promise<Execution> => {
    const queued = await executions.executeBlock(alice.id, blockId, inputs);
    await webhooks.set({ executionId: queued.id, clientId, webhookUrl: url });
    await runner.runExecution(queued.id);
    return (await container.get<ExecutionRepository>(ExecutionRepository).get(queued.id))!;
  };
  /** The client's deliveries, oldest first (on the fake clock one execution's events share a creation time: started first). */
  const deliveriesOf = async (clientId = 'app_one'): Promise<ClientWebhookDelivery[]> =>
    (await repo.listByClient(clientId, { limit: 100 })).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || rank(a) - rank(b));
  return { clock, container, alice, bob, client, clients, webhooks, repo, executions, runner, run, deliveriesOf };
}

function clientFixture(overrides: Partial<OAuthClient>): OAuthClient {
  return {
    id: 'app_x',
    userId: 'user-x',
    name: 'App',
    description: '',
    type: 'confidential',
    secretHash: 'h',
    redirectUris: ['https://app.example.com/cb'],
    webhookDomains: ['hooks.example.com', '*.example.org'],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
    ...overrides,
  };
}

const rank = (d: ClientWebhookDelivery) => ['execution.started', 'execution.completed', 'execution.failed', 'grant.revoked'].indexOf(d.event);
const kindOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? e.kind : `not a domain error: ${String(e)}`));
const bodyOf = (d: ClientWebhookDelivery) => JSON.parse(d.body) as { event: string; timestamp: string; data: Record<string, unknown> };

describe('ClientWebhookService (memory adapters)', () => {
  it('is bound as an ExecutionLifecycleListener by clientWebhookModule', async () => {
    const { container, webhooks } = await compose();
    expect(container.getAll(ExecutionLifecycleListener)).to.include(webhooks);
  });

  describe('set (an execute with webhook_url)', () => {
    it("refuses a URL outside the client's webhook domains, or plain http elsewhere than localhost, storing nothing", async () => {
      const { webhooks, repo, executions, alice } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      for (const url of ['https://evil.example.com/in', 'http://hooks.example.com/in', 'https://hooks.example.com.evil.io/', 'https://user:pw@hooks.example.com/', 'https://hooks.example.com/ü', 'ftp://hooks.example.com/']) {
        expect(await kindOf(webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: url })), url).to.equal('invalid_input');
      }
      expect(await repo.getTarget(queued.id)).to.equal(null);
      expect(await repo.listEndpoints('app_one', 10)).to.deep.equal([]);
    });

    it('records the target and the endpoint for an allowed URL (subdomains of a *. entry too)', async () => {
      const { webhooks, repo, executions, alice } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: 'https://a.b.example.org/hook?x=1' });
      expect(await webhooks.get(queued.id)).to.deep.equal({ executionId: queued.id, clientId: 'app_one', webhookUrl: 'https://a.b.example.org/hook?x=1' });
      expect((await repo.listEndpoints('app_one', 10)).map((e) => e.url)).to.deep.equal(['https://a.b.example.org/hook?x=1']);
    });
  });

  describe('execution events', () => {
    it('enqueues execution.started and execution.completed, with the data the guide names', async () => {
      const { run, deliveriesOf, alice } = await compose();
      const done = await run('t.echo', { text: 'hello' });
      void alice;
      const [started, completed] = await deliveriesOf();
      expect(started).to.include({ event: 'execution.started', status: 'pending', url: URL_A, attempts: 0 });
      expect(bodyOf(started!)).to.deep.equal({
        event: 'execution.started',
        timestamp: done.startedAt!.toISOString(),
        data: { execution_id: done.id, agent_id: null, status: 'running', started_at: done.startedAt!.toISOString() },
      });
      expect(started!.timestamp).to.equal(done.startedAt!.toISOString());
      expect(bodyOf(completed!)).to.deep.equal({
        event: 'execution.completed',
        timestamp: done.completedAt!.toISOString(),
        data: { execution_id: done.id, agent_id: null, started_at: done.startedAt!.toISOString(), completed_at: done.completedAt!.toISOString(), status: 'completed', outputs: { text: ['hello'] } },
      });
    });

    it("writes bodies the guide's check (HMAC of JSON.stringify of the parsed body) verifies as the raw bytes", async () => {
      const { run, deliveriesOf } = await compose();
      await run('t.rich');
      const completed = (await deliveriesOf()).find((d) => d.event === 'execution.completed')!;
      expect(JSON.stringify(JSON.parse(completed.body))).to.equal(completed.body);
      const secret = 'whsec_x';
      expect(createHmac('sha256', secret).update(JSON.stringify(JSON.parse(completed.body))).digest('hex')).to.equal(createHmac('sha256', secret).update(completed.body).digest('hex'));
      expect(bodyOf(completed).data.outputs).to.have.property('value');
    });

    it('enqueues execution.failed with the error', async () => {
      const { run, deliveriesOf } = await compose();
      const failed = await run('t.boom');
      const events = await deliveriesOf();
      expect(events.map((d) => d.event)).to.deep.equal(['execution.started', 'execution.failed']);
      expect(bodyOf(events[1]!).data).to.deep.include({ execution_id: failed.id, status: 'failed', error: 'the provider said no' });
    });

    it('announces a cancelled execution as execution.failed with cancelled: true (no started when it never ran)', async () => {
      const { webhooks, executions, alice, deliveriesOf } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: URL_A });
      await executions.cancelExecution(alice.id, queued.id);
      const events = await deliveriesOf();
      expect(events.map((d) => d.event)).to.deep.equal(['execution.failed']);
      expect(bodyOf(events[0]!).data).to.deep.include({ execution_id: queued.id, status: 'cancelled', cancelled: true, started_at: null });
      expect(bodyOf(events[0]!).data.error).to.be.a('string');
    });

    it('enqueues nothing for an execution without a target', async () => {
      const { executions, runner, alice, repo } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await runner.runExecution(queued.id);
      expect(await repo.listByClient('app_one', { limit: 10 })).to.deep.equal([]);
    });

    it('enqueues each event once however often it is told', async () => {
      const { run, webhooks, deliveriesOf } = await compose();
      const done = await run('t.echo');
      await webhooks.started({ ...done, status: 'running' });
      await webhooks.finished(done);
      expect(await webhooks.reconcile()).to.equal(0);
      expect(await deliveriesOf()).to.have.length(2);
    });

    it("sends execution events through this process's dispatcher first, then stores each with its result and moves the target", async () => {
      const { run, webhooks, repo, clock, deliveriesOf } = await compose();
      const sent: string[] = [];
      webhooks.attachSender({
        leaseMs: 60_000,
        send: () => expect.fail('execution events are not stored claimed first'),
        deliver: async (delivery, client) => {
          expect(await repo.get(delivery.id)).to.equal(null); // not stored before the attempt
          expect(client.id).to.equal('app_one');
          sent.push(delivery.event);
          return { status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: clock.now(), updatedAt: clock.now() };
        },
      });
      const done = await run('t.echo');
      await webhooks.drain();
      expect(sent).to.deep.equal(['execution.started', 'execution.completed']);
      expect((await deliveriesOf()).map((d) => [d.event, d.status, d.attempts, d.lastStatus])).to.deep.equal([
        ['execution.started', 'delivered', 1, 200],
        ['execution.completed', 'delivered', 1, 200],
      ]);
      expect((await repo.getTarget(done.id))?.stage).to.equal('finished');
      expect(await repo.claimDue(clock.now(), new Date(clock.now().getTime() + 1_000), 10)).to.deep.equal([]);
      // Told again (a redelivered job, the reconciliation): nothing is sent twice.
      await webhooks.finished(done);
      await webhooks.drain();
      expect(sent).to.have.length(2);
    });

    /** An execution with a target that started (and is still running), its webhooks delivered by a stand-in dispatcher. */
    async function startedAndRunning() {
      const composed = await compose();
      const { executions, alice, webhooks, clock } = composed;
      webhooks.attachSender({
        leaseMs: 60_000,
        send: () => expect.fail('not used'),
        deliver: async () => ({ status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: clock.now(), updatedAt: clock.now() }),
      });
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: URL_A });
      await webhooks.started({ ...queued, status: 'running', startedAt: clock.now() });
      return composed;
    }

    it("stores a running execution's execution.started within about a second, without waiting for its end", async () => {
      const { webhooks, repo } = await startedAndRunning();
      const listed = async () => (await repo.listByClient('app_one', { limit: 10 })).map((d) => [d.event, d.status]);
      expect(await listed()).to.deep.equal([]); // sent, its row waiting for the end
      await new Promise((r) => setTimeout(r, 1_200));
      await webhooks.drain();
      expect(await listed()).to.deep.equal([['execution.started', 'delivered']]);
    });

    it('stores a sent execution.started when the process stops (drain), before its execution ended', async () => {
      const { webhooks, repo } = await startedAndRunning();
      await webhooks.drain();
      expect((await repo.listByClient('app_one', { limit: 10 })).map((d) => d.event)).to.deep.equal(['execution.started']);
    });

    it('stores an execution event whose first attempt failed as pending, due on the retry schedule', async () => {
      const { run, webhooks, clock, deliveriesOf } = await compose();
      webhooks.attachSender({
        leaseMs: 60_000,
        send: () => expect.fail('not used'),
        deliver: async () => ({ status: 'pending', attempts: 1, nextAttemptAt: new Date(clock.now().getTime() + 5_000), lastStatus: 503, lastError: 'answered 503', deliveredAt: null, updatedAt: clock.now() }),
      });
      await run('t.echo');
      await webhooks.drain();
      const stored = await deliveriesOf();
      expect(stored.map((d) => [d.status, d.attempts, d.lastStatus])).to.deep.equal([
        ['pending', 1, 503],
        ['pending', 1, 503],
      ]);
      expect(stored[0]!.nextAttemptAt!.getTime() - clock.now().getTime()).to.equal(5_000);
    });

    /** A logger that keeps its warnings (message and fields), and drops everything else. */
    function warningsLogger(): { warnings: Array<[string, Record<string, unknown> | undefined]>; logger: Logger } {
      const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
      const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push([message, fields]), child: () => logger };
      return { warnings, logger };
    }

    /**
     * Composed with a stand-in dispatcher whose attempts (all delivered) wait for `releaseSends`,
     * and with the storage's writes counted; `advanceTargets` waits for `releaseAdvances`.
     */
    async function withGatedSender(options: { logger?: Logger; advanceFails?: boolean; firstStoreFails?: boolean } = {}) {
      const composed = await compose(options);
      const { webhooks, repo, clock } = composed;
      let releaseSends!: () => void;
      const sendsReleased = new Promise<void>((r) => (releaseSends = r));
      let releaseAdvances!: () => void;
      const advancesReleased = new Promise<void>((r) => (releaseAdvances = r));
      const sent: string[] = [];
      webhooks.attachSender({
        leaseMs: 60_000,
        send: () => expect.fail('not used'),
        deliver: async (delivery): Promise<ClientWebhookAttemptResult> => {
          sent.push(delivery.event);
          await sendsReleased;
          return { status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: clock.now(), updatedAt: clock.now() };
        },
      });
      // The memory repository behind the service's cache, its writes counted.
      const writes = { enqueue: 0, enqueueMany: [] as string[][], advanceTarget: [] as Array<[string, ClientWebhookTargetStage]>, advanceTargets: [] as Array<[string[], ClientWebhookTargetStage]> };
      const enqueue = repo.enqueue.bind(repo);
      const enqueueMany = repo.enqueueMany.bind(repo);
      const advanceTarget = repo.advanceTarget.bind(repo);
      const advanceTargets = repo.advanceTargets.bind(repo);
      Object.assign(repo, {
        enqueue: (...args: Parameters<typeof enqueue>) => ((writes.enqueue += 1), enqueue(...args)),
        enqueueMany: async (ds: readonly ClientWebhookDelivery[]) => {
          writes.enqueueMany.push(ds.map((d) => d.event));
          if (options.firstStoreFails && writes.enqueueMany.length === 1) throw new Error('storage is down');
          return enqueueMany(ds);
        },
        advanceTarget: (id: string, stage: ClientWebhookTargetStage) => (writes.advanceTarget.push([id, stage]), advanceTarget(id, stage)),
        advanceTargets: async (ids: readonly string[], stage: ClientWebhookTargetStage) => {
          writes.advanceTargets.push([[...ids], stage]);
          await advancesReleased;
          if (options.advanceFails) throw new Error('storage is down');
          return advanceTargets(ids, stage);
        },
      });
      /** Starts an execution with a target and runs it to its end (its webhooks wait for releaseSends). */
      const runOne = async (): Promise<Execution> => {
        const queued = await composed.executions.executeBlock(composed.alice.id, 't.echo', { text: 'x' });
        await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: URL_A });
        await composed.runner.runExecution(queued.id);
        return (await composed.container.get<ExecutionRepository>(ExecutionRepository).get(queued.id))!;
      };
      /** Resolves once `count` delivery rows are stored. */
      const stored = async (count: number) => {
        while ((await repo.listByClient('app_one', { limit: count })).length < count) await new Promise((r) => setImmediate(r));
      };
      return { ...composed, sent, writes, releaseSends, releaseAdvances, runOne, stored };
    }

    it("stores the ends of executions ending together, each with its waiting execution.started, in one write, and finishes their targets in one batch", async () => {
      const { webhooks, repo, sent, writes, releaseSends, releaseAdvances, runOne, stored } = await withGatedSender();
      const first = await runOne();
      const second = await runOne();
      expect(sent).to.deep.equal(['execution.started', 'execution.completed', 'execution.started', 'execution.completed']);
      releaseSends();
      await stored(4);
      expect(writes.enqueueMany).to.deep.equal([['execution.started', 'execution.completed', 'execution.started', 'execution.completed']]);
      expect(writes.enqueue).to.equal(0);
      // Stored, their targets not yet moved: told again, this process sends nothing more.
      expect((await repo.getTarget(first.id))?.stage).to.equal('none');
      await webhooks.finished(first);
      await webhooks.finished(second);
      expect(sent).to.have.length(4);
      const drained = webhooks.drain();
      releaseAdvances();
      await drained;
      expect(writes.advanceTargets).to.deep.equal([[[first.id, second.id], 'finished']]);
      expect(writes.advanceTarget).to.deep.equal([]);
      expect((await repo.getTarget(first.id))?.stage).to.equal('finished');
      expect((await repo.getTarget(second.id))?.stage).to.equal('finished');
      // Told again once finished: still nothing sent.
      await webhooks.finished(second);
      await webhooks.drain();
      expect(sent).to.have.length(4);
    });

    it('finishes a batch at once when it holds 200 executions', async () => {
      const { webhooks, releaseSends, releaseAdvances, runOne, stored, writes } = await withGatedSender();
      const done: Execution[] = [];
      for (let i = 0; i < 201; i++) done.push(await runOne());
      releaseSends();
      await stored(402);
      expect(writes.advanceTargets.map(([ids]) => ids)).to.deep.equal([done.slice(0, 200).map((e) => e.id)]);
      releaseAdvances();
      await webhooks.drain();
      expect(writes.advanceTargets.map(([ids]) => ids)).to.deep.equal([done.slice(0, 200).map((e) => e.id), [done[200]!.id]]);
    });

    it('finishes the targets of a batch by itself, without a drain, soon after (its timer: about 50 ms)', async () => {
      const { repo, releaseSends, releaseAdvances, runOne, stored, writes } = await withGatedSender();
      releaseSends();
      releaseAdvances();
      const done = await runOne();
      await stored(2);
      // Polled rather than slept on, so that a busy machine cannot fail it; no drain() is called.
      await waitFor('the batch of finished targets', () => writes.advanceTargets.length > 0, 5_000);
      expect(writes.advanceTargets).to.deep.equal([[[done.id], 'finished']]);
      expect((await repo.getTarget(done.id))?.stage).to.equal('finished');
    });

    it('leaves the targets of a failed batch to the reconciliation, which finishes them without sending again', async () => {
      const { warnings, logger } = warningsLogger();
      const { webhooks, repo, clock, sent, writes, releaseSends, releaseAdvances, runOne, stored } = await withGatedSender({ logger, advanceFails: true });
      releaseSends();
      releaseAdvances();
      const done = await runOne();
      await stored(2);
      await webhooks.drain();
      expect(warnings.map(([message]) => message)).to.deep.equal(['outbound webhooks: targets not marked finished; the reconciliation finishes them later']);
      expect(warnings[0]![1]).to.deep.include({ count: 1, error: 'storage is down' });
      expect((await repo.getTarget(done.id))?.stage).to.equal('none');
      clock.advance(6_000);
      expect(await webhooks.reconcile()).to.equal(0);
      await webhooks.drain();
      expect(sent).to.deep.equal(['execution.started', 'execution.completed']);
      expect(writes.advanceTarget).to.deep.equal([[done.id, 'started'], [done.id, 'finished']]);
      expect((await repo.getTarget(done.id))?.stage).to.equal('finished');
    });

    it('leaves every execution of a failed row batch to the reconciliation, which sends and stores their events again', async () => {
      const { warnings, logger } = warningsLogger();
      const { webhooks, repo, clock, sent, writes, releaseSends, releaseAdvances, runOne, stored } = await withGatedSender({ logger, firstStoreFails: true });
      releaseAdvances();
      const first = await runOne();
      const second = await runOne();
      releaseSends();
      // No drain here: it would store the waiting execution.started rows on their own.
      await waitFor('the failed row batch', () => warnings.length === 2, 5_000);
      expect(writes.enqueueMany).to.deep.equal([['execution.started', 'execution.completed', 'execution.started', 'execution.completed']]);
      expect(warnings.map(([message]) => message)).to.deep.equal([
        'outbound webhook sent but not recorded; the reconciliation enqueues it again',
        'outbound webhook sent but not recorded; the reconciliation enqueues it again',
      ]);
      for (const [, fields] of warnings) expect(fields).to.include.keys('deliveryId', 'startedDeliveryId', 'error');
      expect(await repo.listByClient('app_one', { limit: 10 })).to.deep.equal([]);
      expect(writes.advanceTargets).to.deep.equal([]);
      expect((await repo.getTarget(first.id))?.stage).to.equal('none');
      expect((await repo.getTarget(second.id))?.stage).to.equal('none');
      await webhooks.drain();
      expect(await repo.listByClient('app_one', { limit: 10 })).to.deep.equal([]);
      clock.advance(6_000);
      expect(await webhooks.reconcile()).to.equal(4);
      await webhooks.drain();
      await stored(4);
      expect(sent).to.have.length(8);
      expect((await repo.getTarget(first.id))?.stage).to.equal('finished');
      expect((await repo.getTarget(second.id))?.stage).to.equal('finished');
    });

    it("hands a grant.revoked to this process's dispatcher stored claimed for it, so that no other dispatcher takes it", async () => {
      const { run, webhooks, repo, clock } = await compose();
      await run('t.echo'); // the client's endpoint is known now
      const handed: Array<{ id: string; leaseToken: string }> = [];
      webhooks.attachSender({
        leaseMs: 60_000,
        send: (claimed, _client, stored) => {
          handed.push({ id: claimed.delivery.id, leaseToken: claimed.leaseToken });
          void stored.then((yes) => expect(yes).to.equal(true));
        },
        deliver: () => expect.fail('grant.revoked is stored before it is sent'),
      });
      await webhooks.revoked({ id: 'grant-1', clientId: 'app_one', userId: 'u', credentialId: 'c', provider: 'p', scopes: [], createdAt: clock.now(), lastUsedAt: null, revokedAt: clock.now() } as never);
      expect(handed).to.have.length(1);
      expect((await repo.get(handed[0]!.id))?.event).to.equal('grant.revoked');
      const claimable = await repo.claimDue(clock.now(), new Date(clock.now().getTime() + 1_000), 10);
      expect(claimable.map((c) => c.delivery.event).sort()).to.deep.equal(['execution.completed', 'execution.started']); // stored before the dispatcher was attached

      const delivered = { status: 'delivered' as const, attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: clock.now(), updatedAt: clock.now() };
      expect(await repo.recordAttempt(handed[0]!.id, handed[0]!.leaseToken, delivered)).to.equal(true);
    });

    it('stores the events for an endpoint disabled by a 410 as disabled, unsent; naming the URL on an execute enables it again', async () => {
      const { executions, runner, repo, alice, clock, run, deliveriesOf } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await repo.recordTarget({ executionId: queued.id, clientId: 'app_one', url: URL_A, stage: 'none', createdAt: clock.now() });
      await repo.disableEndpoint('app_one', URL_A, clock.now());
      await runner.runExecution(queued.id);
      const disabled = await deliveriesOf();
      expect(disabled.map((d) => [d.event, d.status, d.attempts])).to.deep.equal([
        ['execution.started', 'disabled', 0],
        ['execution.completed', 'disabled', 0],
      ]);
      expect(disabled[0]!.lastError).to.contain('410');
      clock.advance(1_000);
      await run('t.echo');
      expect((await deliveriesOf()).slice(2).map((d) => d.status)).to.deep.equal(['pending', 'pending']);
    });
  });

  describe('reconcile', () => {
    it('enqueues the events of an execution whose status was written but whose enqueue was lost (a crash)', async () => {
      const { container, webhooks, executions, alice, clock, deliveriesOf } = await compose();
      const repo = container.get<ExecutionRepository>(ExecutionRepository);
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: URL_A });
      // The worker wrote "running" then "completed" and died before telling the listener.
      const startedAt = clock.now();
      await repo.update({ ...queued, status: 'running', attempts: 1, startedAt }, 'queued');
      expect(await webhooks.reconcile(), 'a target younger than the grace period waits').to.equal(0);
      clock.advance(6_000);
      expect(await webhooks.reconcile()).to.equal(1);
      expect((await deliveriesOf()).map((d) => d.event)).to.deep.equal(['execution.started']);
      const completedAt = clock.now();
      await repo.update({ ...queued, status: 'completed', attempts: 1, startedAt, completedAt, outputs: { text: ['x'] } }, 'running');
      expect(await webhooks.reconcile()).to.equal(1);
      const events = await deliveriesOf();
      expect(events.map((d) => d.event)).to.deep.equal(['execution.started', 'execution.completed']);
      expect(bodyOf(events[1]!).timestamp).to.equal(completedAt.toISOString());
      expect(await webhooks.reconcile()).to.equal(0);
    });

    it('leaves a queued execution alone and gives up a target whose execution never appeared', async () => {
      const { webhooks, executions, alice, clock, repo } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      await webhooks.set({ executionId: queued.id, clientId: 'app_one', webhookUrl: URL_A });
      await repo.recordTarget({ executionId: 'exec-never', clientId: 'app_one', url: URL_A, stage: 'none', createdAt: clock.now() });
      clock.advance(6_000);
      expect(await webhooks.reconcile()).to.equal(0);
      expect((await repo.getTarget('exec-never'))?.stage).to.equal('none');
      clock.advance(3_600_000);
      await webhooks.reconcile();
      expect((await repo.getTarget('exec-never'))?.stage).to.equal('finished');
      expect((await repo.getTarget(queued.id))?.stage).to.equal('none');
    });
  });

  describe('grant.revoked', () => {
    it("goes to each of the client's endpoints not disabled, and to no other client", async () => {
      const { webhooks, repo, clock, deliveriesOf } = await compose();
      await repo.useEndpoint('app_one', URL_A, clock.now());
      await repo.useEndpoint('app_one', 'https://x.example.org/gone', clock.now());
      await repo.disableEndpoint('app_one', 'https://x.example.org/gone', clock.now());
      await repo.useEndpoint('app_two', 'https://hooks.example.com/two', clock.now());
      const revokedAt = new Date(clock.now().getTime() - 1000);
      await webhooks.revoked({ id: 'grant-1', userId: 'u', clientId: 'app_one', credentialId: 'cred-1', provider: 'github', scopes: ['github:repo.read'], createdAt: new Date(0), lastUsedAt: null, revokedAt });
      const events = await deliveriesOf();
      expect(events.map((d) => [d.event, d.url])).to.deep.equal([['grant.revoked', URL_A]]);
      expect(bodyOf(events[0]!)).to.deep.equal({ event: 'grant.revoked', timestamp: revokedAt.toISOString(), data: { grant_id: 'grant-1', provider: 'github', credential_id: 'cred-1', revoked_at: revokedAt.toISOString() } });
      expect(await deliveriesOf('app_two')).to.deep.equal([]);
    });
  });

  describe('listDeliveries', () => {
    it("lists one of the owner's clients' deliveries newest first, by status, in pages", async () => {
      const { webhooks, run, alice } = await compose();
      await run('t.echo');
      await run('t.echo');
      const all = await webhooks.listDeliveries(alice.id, 'app_one');
      expect(all.deliveries).to.have.length(4);
      expect(all.nextBefore).to.equal(null);
      const first = await webhooks.listDeliveries(alice.id, 'app_one', { limit: 3 });
      expect(first.deliveries.map((d) => d.id)).to.deep.equal(all.deliveries.slice(0, 3).map((d) => d.id));
      const second = await webhooks.listDeliveries(alice.id, 'app_one', { limit: 3, before: first.nextBefore });
      expect(second.deliveries.map((d) => d.id)).to.deep.equal(all.deliveries.slice(3).map((d) => d.id));
      expect(second.nextBefore).to.equal(null);
      expect((await webhooks.listDeliveries(alice.id, 'app_one', { status: 'delivered' })).deliveries).to.deep.equal([]);
    });

    it("answers not found for another user's client, and refuses bad parameters", async () => {
      const { webhooks, alice, bob } = await compose();
      expect(await kindOf(webhooks.listDeliveries(bob.id, 'app_one'))).to.equal('not_found');
      expect(await kindOf(webhooks.listDeliveries(alice.id, 'app_unknown'))).to.equal('not_found');
      expect(await kindOf(webhooks.listDeliveries(alice.id, 'app_one', { limit: 0 }))).to.equal('invalid_input');
      expect(await kindOf(webhooks.listDeliveries(alice.id, 'app_one', { limit: 101 }))).to.equal('invalid_input');
      expect(await kindOf(webhooks.listDeliveries(alice.id, 'app_one', { status: 'lost' }))).to.equal('invalid_input');
      expect(await kindOf(webhooks.listDeliveries(alice.id, 'app_one', { before: 'msg_unknown' }))).to.equal('invalid_input');
    });
  });

  it("forgets a deleted client's outbox", async () => {
    const { webhooks, run, client, repo } = await compose();
    await run('t.echo');
    await webhooks.oauthClientDeleted(client);
    expect(await repo.listByClient('app_one', { limit: 10 })).to.deep.equal([]);
    expect(await repo.listEndpoints('app_one', 10)).to.deep.equal([]);
  });
});
