import { expect } from 'chai';
import { clientWebhookDeliveryId, type ClientWebhookAttemptResult, type ClientWebhookDelivery, type ClientWebhookTarget } from '../client-webhook/client-webhook-delivery.js';
import type { ClientWebhookRepository } from '../client-webhook/client-webhook.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, richInputs, uniqueSuffix } from './storage.fixtures.js';

/** A pending delivery due at fixedDate(); its body is a real event body with awkward JSON in it. */
export function clientWebhookDeliveryFixture(overrides: Partial<ClientWebhookDelivery> = {}): ClientWebhookDelivery {
  const suffix = uniqueSuffix();
  const clientId = overrides.clientId ?? `app_${suffix}`;
  const url = overrides.url ?? `https://hooks.example.com/in?tenant=${suffix}&x=%20`;
  const eventKey = overrides.eventKey ?? `execution.finished:exec-${suffix}`;
  const timestamp = fixedDate().toISOString();
  return {
    id: clientWebhookDeliveryId(clientId, url, eventKey),
    clientId,
    url,
    event: 'execution.completed',
    eventKey,
    // Key order, spacing and escapes must come back byte for byte: the signature covers them.
    body: JSON.stringify({ event: 'execution.completed', timestamp, data: { execution_id: `exec-${suffix}`, outputs: { z: [1], a: [richInputs()], '10': ['x'], '2': [null] } } }),
    timestamp,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: fixedDate(),
    lastStatus: null,
    lastError: null,
    createdAt: fixedDate(),
    updatedAt: fixedDate(),
    deliveredAt: null,
    ...overrides,
  };
}

function failedAttempt(overrides: Partial<ClientWebhookAttemptResult> = {}): ClientWebhookAttemptResult {
  return { status: 'pending', attempts: 1, nextAttemptAt: fixedDate(5_000), lastStatus: 500, lastError: 'answered 500', deliveredAt: null, updatedAt: fixedDate(10), ...overrides };
}

function targetFixture(overrides: Partial<ClientWebhookTarget> = {}): ClientWebhookTarget {
  const suffix = uniqueSuffix();
  return { executionId: `exec-${suffix}`, clientId: `app_${suffix}`, url: `https://hooks.example.com/${suffix}`, stage: 'none', createdAt: fixedDate(), ...overrides };
}

/** The behaviour every ClientWebhookRepository adapter shares; `repo()` is a fresh, empty repository. */
export function clientWebhookRepositoryContract(repo: () => ClientWebhookRepository): void {
  describe('ClientWebhookRepository', () => {
    describe('enqueue / get', () => {
      it('round-trips every field, the body byte for byte', async () => {
        const delivery = clientWebhookDeliveryFixture();
        expect(await repo().enqueue(delivery)).to.equal(true);
        const stored = await repo().get(delivery.id);
        expect(stored).to.deep.equal(delivery);
        expect(stored?.body).to.equal(delivery.body);
        expect(stored?.createdAt).to.be.instanceOf(Date);
      });

      it('round-trips a settled delivery', async () => {
        const delivery = clientWebhookDeliveryFixture({ status: 'delivered', attempts: 3, nextAttemptAt: null, lastStatus: 204, lastError: null, deliveredAt: fixedDate(7_777), updatedAt: fixedDate(7_777) });
        await repo().enqueue(delivery);
        expect(await repo().get(delivery.id)).to.deep.equal(delivery);
      });

      it('stores one delivery per id: a repeated enqueue answers false and changes nothing', async () => {
        const delivery = clientWebhookDeliveryFixture();
        expect(await repo().enqueue(delivery)).to.equal(true);
        expect(await repo().enqueue({ ...delivery, body: '{"other":true}', createdAt: fixedDate(1) })).to.equal(false);
        expect(await repo().get(delivery.id)).to.deep.equal(delivery);
      });

      it('of concurrent enqueues of one id exactly one answers true', async () => {
        const delivery = clientWebhookDeliveryFixture();
        const answers = await Promise.all(Array.from({ length: 8 }, () => repo().enqueue(delivery)));
        expect(answers.filter(Boolean)).to.have.length(1);
      });

      it('answers null for an unknown id', async () => {
        expect(await repo().get('msg_unknown')).to.equal(null);
      });
    });

    describe('enqueueMany', () => {
      it('stores every new delivery, each field and body as given, unclaimed', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const started = clientWebhookDeliveryFixture({ clientId, event: 'execution.started', eventKey: `execution.started:exec-${uniqueSuffix()}` });
        const completed = clientWebhookDeliveryFixture({ clientId, status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, deliveredAt: fixedDate(20), updatedAt: fixedDate(20) });
        const retrying = clientWebhookDeliveryFixture({ clientId, attempts: 1, nextAttemptAt: fixedDate(5_000), lastStatus: 503, lastError: 'answered 503' });
        await repo().enqueueMany([started, completed, retrying]);
        for (const d of [started, completed, retrying]) expect(await repo().get(d.id)).to.deep.equal(d);
        expect((await repo().get(completed.id))?.body).to.equal(completed.body);
        // Stored unclaimed: a pending one is due on its schedule.
        expect((await repo().claimDue(fixedDate(5_000), fixedDate(65_000), 10)).map((c) => c.delivery.id)).to.include(retrying.id);
      });

      it('leaves a delivery whose id is stored unchanged, and stores the others', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const existing = clientWebhookDeliveryFixture({ clientId });
        await repo().enqueue(existing);
        const fresh = clientWebhookDeliveryFixture({ clientId });
        await repo().enqueueMany([{ ...existing, body: '{"other":true}', status: 'delivered', attempts: 1, nextAttemptAt: null, createdAt: fixedDate(1) }, fresh]);
        expect(await repo().get(existing.id)).to.deep.equal(existing);
        expect(await repo().get(fresh.id)).to.deep.equal(fresh);
        expect(await repo().listByClient(clientId, { limit: 10 })).to.have.length(2);
      });

      it('stores a long list', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const many = Array.from({ length: 250 }, (_, i) => clientWebhookDeliveryFixture({ clientId, eventKey: `k${i}` }));
        await repo().enqueueMany(many);
        expect((await repo().listByClient(clientId, { limit: 300 })).map((d) => d.id).sort()).to.deep.equal(many.map((d) => d.id).sort());
      });

      it('does nothing for an empty list', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        await repo().enqueueMany([]);
        expect(await repo().listByClient(clientId, { limit: 10 })).to.deep.equal([]);
      });
    });

    describe('claimDue', () => {
      it('claims due pending deliveries, earliest due first, up to the limit', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const late = clientWebhookDeliveryFixture({ clientId, nextAttemptAt: fixedDate(2_000) });
        const early = clientWebhookDeliveryFixture({ clientId, nextAttemptAt: fixedDate(1_000) });
        const notYet = clientWebhookDeliveryFixture({ clientId, nextAttemptAt: fixedDate(60_000) });
        const settled = clientWebhookDeliveryFixture({ clientId, status: 'delivered', nextAttemptAt: null, deliveredAt: fixedDate() });
        for (const d of [late, early, notYet, settled]) await repo().enqueue(d);
        const claimed = await repo().claimDue(fixedDate(3_000), fixedDate(63_000), 10);
        expect(claimed.map((c) => c.delivery.id)).to.deep.equal([early.id, late.id]);
        expect(claimed[0]!.delivery).to.deep.equal(early);
        expect(claimed[0]!.leaseUntil.getTime()).to.equal(fixedDate(63_000).getTime());
        expect(claimed[0]!.leaseToken).to.be.a('string').and.not.equal(claimed[1]!.leaseToken);
        const limited = await repo().claimDue(fixedDate(60_000), fixedDate(90_000), 1);
        expect(limited.map((c) => c.delivery.id)).to.deep.equal([notYet.id]);
      });

      it('does not claim a delivery again while its claim lasts, and does once it lapsed', async () => {
        const delivery = clientWebhookDeliveryFixture();
        await repo().enqueue(delivery);
        const [first] = await repo().claimDue(fixedDate(0), fixedDate(30_000), 5);
        expect(first?.delivery.id).to.equal(delivery.id);
        expect(await repo().claimDue(fixedDate(29_999), fixedDate(60_000), 5)).to.deep.equal([]);
        const [again] = await repo().claimDue(fixedDate(30_000), fixedDate(60_000), 5);
        expect(again?.delivery.id).to.equal(delivery.id);
        expect(again?.leaseToken).to.not.equal(first?.leaseToken);
      });

      it('a delivery enqueued with a claim is not claimed until that claim lapses, and its token records the attempt', async () => {
        const delivery = clientWebhookDeliveryFixture();
        expect(await repo().enqueue(delivery, { leaseToken: 'lease-at-enqueue', leaseUntil: fixedDate(30_000) })).to.equal(true);
        expect(await repo().get(delivery.id)).to.deep.equal(delivery);
        expect(await repo().claimDue(fixedDate(29_999), fixedDate(60_000), 5)).to.deep.equal([]);
        expect(await repo().recordAttempt(delivery.id, 'another-token', failedAttempt())).to.equal(false);
        const result: ClientWebhookAttemptResult = { status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: fixedDate(20), updatedAt: fixedDate(20) };
        expect(await repo().recordAttempt(delivery.id, 'lease-at-enqueue', result)).to.equal(true);
        expect(await repo().get(delivery.id)).to.deep.equal({ ...delivery, ...result });
      });

      it('a delivery enqueued with a claim whose sender died is claimed once the claim lapses', async () => {
        const delivery = clientWebhookDeliveryFixture();
        await repo().enqueue(delivery, { leaseToken: 'lease-of-a-crashed-process', leaseUntil: fixedDate(30_000) });
        const [taken] = await repo().claimDue(fixedDate(30_000), fixedDate(60_000), 5);
        expect(taken?.delivery.id).to.equal(delivery.id);
        expect(taken?.leaseToken).to.not.equal('lease-of-a-crashed-process');
      });

      it('of concurrent claims each delivery goes to one claimer only', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const deliveries = Array.from({ length: 12 }, (_, i) => clientWebhookDeliveryFixture({ clientId, nextAttemptAt: fixedDate(i) }));
        for (const d of deliveries) await repo().enqueue(d);
        const claims = await Promise.all(Array.from({ length: 6 }, () => repo().claimDue(fixedDate(100), fixedDate(60_000), 4)));
        const ids = claims.flat().map((c) => c.delivery.id);
        expect(new Set(ids).size).to.equal(ids.length);
        expect(ids.length).to.be.at.most(deliveries.length);
        // Whatever no concurrent claimer got is still there for the next one.
        const rest = await repo().claimDue(fixedDate(100), fixedDate(60_000), 100);
        expect(ids.length + rest.length).to.equal(deliveries.length);
      });
    });

    describe('recordAttempt', () => {
      it("records the attempt's result and ends the claim", async () => {
        const delivery = clientWebhookDeliveryFixture();
        await repo().enqueue(delivery);
        const [claim] = await repo().claimDue(fixedDate(0), fixedDate(60_000), 1);
        const result = failedAttempt();
        expect(await repo().recordAttempt(delivery.id, claim!.leaseToken, result)).to.equal(true);
        expect(await repo().get(delivery.id)).to.deep.equal({ ...delivery, ...result });
        // Due again at 5 s, although the claim would have lasted a minute.
        expect((await repo().claimDue(fixedDate(5_000), fixedDate(65_000), 1)).map((c) => c.delivery.id)).to.deep.equal([delivery.id]);
      });

      it('records a delivered result', async () => {
        const delivery = clientWebhookDeliveryFixture();
        await repo().enqueue(delivery);
        const [claim] = await repo().claimDue(fixedDate(0), fixedDate(60_000), 1);
        const result: ClientWebhookAttemptResult = { status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, deliveredAt: fixedDate(20), updatedAt: fixedDate(20) };
        expect(await repo().recordAttempt(delivery.id, claim!.leaseToken, result)).to.equal(true);
        expect(await repo().get(delivery.id)).to.deep.equal({ ...delivery, ...result });
        expect(await repo().claimDue(fixedDate(10_000_000), fixedDate(20_000_000), 5)).to.deep.equal([]);
      });

      it('refuses a lapsed claim that another dispatcher took over, changing nothing', async () => {
        const delivery = clientWebhookDeliveryFixture();
        await repo().enqueue(delivery);
        const [stale] = await repo().claimDue(fixedDate(0), fixedDate(1_000), 1);
        const [fresh] = await repo().claimDue(fixedDate(1_000), fixedDate(61_000), 1);
        expect(await repo().recordAttempt(delivery.id, stale!.leaseToken, failedAttempt({ lastError: 'stale' }))).to.equal(false);
        expect(await repo().get(delivery.id)).to.deep.equal(delivery);
        expect(await repo().recordAttempt(delivery.id, fresh!.leaseToken, failedAttempt())).to.equal(true);
        expect(await repo().recordAttempt(delivery.id, fresh!.leaseToken, failedAttempt({ attempts: 9 }))).to.equal(false);
        expect((await repo().get(delivery.id))?.attempts).to.equal(1);
      });

      it('answers false for an unknown delivery', async () => {
        expect(await repo().recordAttempt('msg_unknown', 'token', failedAttempt())).to.equal(false);
      });
    });

    describe('listByClient', () => {
      it("lists the client's deliveries newest first, by status, in pages", async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const a = clientWebhookDeliveryFixture({ clientId, createdAt: fixedDate(1) });
        const b = clientWebhookDeliveryFixture({ clientId, createdAt: fixedDate(2), status: 'failed', nextAttemptAt: null, lastError: 'gone' });
        const c = clientWebhookDeliveryFixture({ clientId, createdAt: fixedDate(3) });
        const other = clientWebhookDeliveryFixture({ createdAt: fixedDate(4) });
        for (const d of [a, b, c, other]) await repo().enqueue(d);
        expect((await repo().listByClient(clientId, { limit: 10 })).map((d) => d.id)).to.deep.equal([c.id, b.id, a.id]);
        expect(await repo().listByClient(clientId, { limit: 10, status: 'failed' })).to.deep.equal([b]);
        expect((await repo().listByClient(clientId, { limit: 2 })).map((d) => d.id)).to.deep.equal([c.id, b.id]);
        expect((await repo().listByClient(clientId, { limit: 2, before: { createdAt: b.createdAt, id: b.id } })).map((d) => d.id)).to.deep.equal([a.id]);
        expect(await repo().listByClient(`app_${uniqueSuffix()}`, { limit: 10 })).to.deep.equal([]);
      });

      it('orders deliveries created at the same instant by id', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const ds = [1, 2, 3].map((i) => clientWebhookDeliveryFixture({ clientId, eventKey: `k${i}` }));
        for (const d of ds) await repo().enqueue(d);
        const ids = ds.map((d) => d.id).sort().reverse();
        expect((await repo().listByClient(clientId, { limit: 10 })).map((d) => d.id)).to.deep.equal(ids);
        expect((await repo().listByClient(clientId, { limit: 10, before: { createdAt: fixedDate(), id: ids[0]! } })).map((d) => d.id)).to.deep.equal(ids.slice(1));
      });
    });

    describe('endpoints', () => {
      it('creates an endpoint on use and keeps its latest use', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const url = 'https://hooks.example.com/a';
        expect(await repo().getEndpoint(clientId, url)).to.equal(null);
        await repo().useEndpoint(clientId, url, fixedDate(10));
        await repo().useEndpoint(clientId, url, fixedDate(20));
        expect(await repo().getEndpoint(clientId, url)).to.deep.equal({ clientId, url, lastUsedAt: fixedDate(20), disabledAt: null });
      });

      it('lists endpoints most recently used first, up to the limit', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        await repo().useEndpoint(clientId, 'https://a.example.com/', fixedDate(1));
        await repo().useEndpoint(clientId, 'https://b.example.com/', fixedDate(3));
        await repo().useEndpoint(clientId, 'https://c.example.com/', fixedDate(2));
        await repo().useEndpoint(`app_${uniqueSuffix()}`, 'https://d.example.com/', fixedDate(9));
        expect((await repo().listEndpoints(clientId, 10)).map((e) => e.url)).to.deep.equal(['https://b.example.com/', 'https://c.example.com/', 'https://a.example.com/']);
        expect(await repo().listEndpoints(clientId, 1)).to.have.length(1);
      });

      it('disabling marks pending unclaimed deliveries to that URL disabled, and a new use enables it again', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const url = 'https://hooks.example.com/gone';
        await repo().useEndpoint(clientId, url, fixedDate(0));
        const pending = clientWebhookDeliveryFixture({ clientId, url, eventKey: 'k1', nextAttemptAt: fixedDate(50_000) });
        const claimed = clientWebhookDeliveryFixture({ clientId, url, eventKey: 'k2' });
        const delivered = clientWebhookDeliveryFixture({ clientId, url, eventKey: 'k3', status: 'delivered', nextAttemptAt: null, deliveredAt: fixedDate(1) });
        const otherUrl = clientWebhookDeliveryFixture({ clientId, url: 'https://hooks.example.com/other', eventKey: 'k4' });
        for (const d of [pending, claimed, delivered, otherUrl]) await repo().enqueue(d);
        const claims = await repo().claimDue(fixedDate(1_000), fixedDate(60_000), 10);
        const claim = claims.find((c) => c.delivery.id === claimed.id)!;
        expect(await repo().disableEndpoint(clientId, url, fixedDate(2_000))).to.equal(1);
        expect(await repo().getEndpoint(clientId, url)).to.deep.equal({ clientId, url, lastUsedAt: fixedDate(0), disabledAt: fixedDate(2_000) });
        const stored = await repo().get(pending.id);
        expect(stored?.status).to.equal('disabled');
        expect(stored?.nextAttemptAt).to.equal(null);
        expect(stored?.lastError).to.be.a('string');
        expect((await repo().get(delivered.id))?.status).to.equal('delivered');
        expect((await repo().get(otherUrl.id))?.status).to.equal('pending');
        // The claimed one records its own result.
        expect((await repo().get(claimed.id))?.status).to.equal('pending');
        expect(await repo().recordAttempt(claimed.id, claim.leaseToken, failedAttempt({ status: 'disabled', nextAttemptAt: null, lastStatus: 410 }))).to.equal(true);
        expect((await repo().get(claimed.id))?.status).to.equal('disabled');
        await repo().useEndpoint(clientId, url, fixedDate(3_000));
        expect(await repo().getEndpoint(clientId, url)).to.deep.equal({ clientId, url, lastUsedAt: fixedDate(3_000), disabledAt: null });
      });

      it('disabling an unknown endpoint creates it disabled', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        expect(await repo().disableEndpoint(clientId, 'https://x.example.com/', fixedDate(5))).to.equal(0);
        expect((await repo().getEndpoint(clientId, 'https://x.example.com/'))?.disabledAt).to.deep.equal(fixedDate(5));
      });
    });

    describe('targets', () => {
      it('round-trips a target and refuses a second one for the execution', async () => {
        const target = targetFixture();
        await repo().recordTarget(target);
        expect(await repo().getTarget(target.executionId)).to.deep.equal(target);
        await expectConflict(repo().recordTarget({ ...target, url: 'https://other.example.com/' }));
        expect(await repo().getTarget(target.executionId)).to.deep.equal(target);
        expect(await repo().getTarget('exec-unknown')).to.equal(null);
      });

      it('advances the stage forward only', async () => {
        const target = targetFixture();
        await repo().recordTarget(target);
        expect(await repo().advanceTarget(target.executionId, 'started')).to.equal(true);
        expect(await repo().advanceTarget(target.executionId, 'started')).to.equal(false);
        expect(await repo().advanceTarget(target.executionId, 'finished')).to.equal(true);
        expect(await repo().advanceTarget(target.executionId, 'started')).to.equal(false);
        expect((await repo().getTarget(target.executionId))?.stage).to.equal('finished');
        expect(await repo().advanceTarget('exec-unknown', 'started')).to.equal(false);
      });

      it('advances many targets forward at once, answering how many moved', async () => {
        const none = targetFixture();
        const started = targetFixture({ stage: 'started' });
        const finished = targetFixture();
        const untouched = targetFixture();
        for (const t of [none, started, finished, untouched]) await repo().recordTarget(t);
        await repo().advanceTarget(finished.executionId, 'finished');
        // Unknown ids and an id named twice count for nothing more.
        expect(await repo().advanceTargets([none.executionId, started.executionId, finished.executionId, 'exec-unknown', none.executionId], 'finished')).to.equal(2);
        for (const t of [none, started, finished]) expect((await repo().getTarget(t.executionId))?.stage).to.equal('finished');
        expect(await repo().getTarget(untouched.executionId)).to.deep.equal(untouched);
        expect(await repo().advanceTargets([none.executionId, started.executionId], 'finished')).to.equal(0);
      });

      it('advances many targets forward only, and not at all for an empty list or to none', async () => {
        const none = targetFixture();
        const finished = targetFixture();
        for (const t of [none, finished]) await repo().recordTarget(t);
        await repo().advanceTarget(finished.executionId, 'finished');
        expect(await repo().advanceTargets([none.executionId, finished.executionId], 'none')).to.equal(0);
        expect(await repo().advanceTargets([], 'finished')).to.equal(0);
        expect(await repo().advanceTargets([none.executionId, finished.executionId], 'started')).to.equal(1);
        expect((await repo().getTarget(none.executionId))?.stage).to.equal('started');
        expect((await repo().getTarget(finished.executionId))?.stage).to.equal('finished');
      });

      it('advances a batch of many targets (any count) in one call', async () => {
        const targets = Array.from({ length: 37 }, () => targetFixture());
        for (const t of targets) await repo().recordTarget(t);
        expect(await repo().advanceTargets(targets.map((t) => t.executionId), 'finished')).to.equal(37);
        const stages = await Promise.all(targets.map(async (t) => (await repo().getTarget(t.executionId))?.stage));
        expect(new Set(stages)).to.deep.equal(new Set(['finished']));
      });

      it('lists unfinished targets created before a time, by execution id, in pages', async () => {
        const prefix = `exec-${uniqueSuffix()}`;
        const a = targetFixture({ executionId: `${prefix}-a`, createdAt: fixedDate(1) });
        const b = targetFixture({ executionId: `${prefix}-b`, createdAt: fixedDate(2), stage: 'started' });
        const c = targetFixture({ executionId: `${prefix}-c`, createdAt: fixedDate(3) });
        const young = targetFixture({ executionId: `${prefix}-d`, createdAt: fixedDate(10_000) });
        const done = targetFixture({ executionId: `${prefix}-e`, createdAt: fixedDate(1) });
        for (const t of [c, a, b, young, done]) await repo().recordTarget(t);
        await repo().advanceTarget(done.executionId, 'finished');
        expect(await repo().listUnfinishedTargets(fixedDate(5_000), null, 10)).to.deep.equal([a, b, c]);
        expect(await repo().listUnfinishedTargets(fixedDate(5_000), null, 2)).to.deep.equal([a, b]);
        expect(await repo().listUnfinishedTargets(fixedDate(5_000), b.executionId, 2)).to.deep.equal([c]);
      });
    });

    describe('deleteByClient / pruneSettled', () => {
      it("forgets a client's deliveries, endpoints and targets only", async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const mine = [clientWebhookDeliveryFixture({ clientId }), clientWebhookDeliveryFixture({ clientId })];
        const other = clientWebhookDeliveryFixture();
        for (const d of [...mine, other]) await repo().enqueue(d);
        await repo().useEndpoint(clientId, 'https://a.example.com/', fixedDate());
        const target = targetFixture({ clientId });
        await repo().recordTarget(target);
        expect(await repo().deleteByClient(clientId)).to.equal(2);
        expect(await repo().get(mine[0]!.id)).to.equal(null);
        expect(await repo().getEndpoint(clientId, 'https://a.example.com/')).to.equal(null);
        expect(await repo().getTarget(target.executionId)).to.equal(null);
        expect(await repo().get(other.id)).to.deep.equal(other);
      });

      it('prunes settled deliveries changed before the cutoff and finished targets, keeping pending ones', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const oldDelivered = clientWebhookDeliveryFixture({ clientId, status: 'delivered', nextAttemptAt: null, deliveredAt: fixedDate(1), updatedAt: fixedDate(1) });
        const oldFailed = clientWebhookDeliveryFixture({ clientId, status: 'failed', nextAttemptAt: null, updatedAt: fixedDate(2) });
        const oldPending = clientWebhookDeliveryFixture({ clientId, updatedAt: fixedDate(1) });
        const recent = clientWebhookDeliveryFixture({ clientId, status: 'disabled', nextAttemptAt: null, updatedAt: fixedDate(10_000) });
        for (const d of [oldDelivered, oldFailed, oldPending, recent]) await repo().enqueue(d);
        const finished = targetFixture({ createdAt: fixedDate(1) });
        const open = targetFixture({ createdAt: fixedDate(1) });
        await repo().recordTarget(finished);
        await repo().recordTarget(open);
        await repo().advanceTarget(finished.executionId, 'finished');
        expect(await repo().pruneSettled(fixedDate(5_000))).to.equal(2);
        expect(await repo().get(oldDelivered.id)).to.equal(null);
        expect(await repo().get(oldFailed.id)).to.equal(null);
        expect(await repo().get(oldPending.id)).to.deep.equal(oldPending);
        expect(await repo().get(recent.id)).to.deep.equal(recent);
        expect(await repo().getTarget(finished.executionId)).to.equal(null);
        expect(await repo().getTarget(open.executionId)).to.deep.equal(open);
      });
    });
  });
}
