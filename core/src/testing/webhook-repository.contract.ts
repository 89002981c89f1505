import { expect } from 'chai';
import type { EncryptedSecret } from '../credential/secret-cipher.port.js';
import { NotFoundError } from '../errors/domain.errors.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import type { WebhookRegistration } from '../webhook/webhook-registration.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, uniqueSuffix } from './storage.fixtures.js';

/** A registering (auto mode) registration with a sealed secret and a config with unicode and nesting. */
export function webhookRegistrationFixture(overrides: Partial<WebhookRegistration> = {}): WebhookRegistration {
  const suffix = uniqueSuffix();
  return {
    id: `webhook-${suffix}`,
    userId: `user-${suffix}`,
    agentId: `agent-${suffix}`,
    triggerNodeId: 'on-issue',
    blockId: 'github.issue_event',
    provider: 'github',
    events: ['issues', 'issue_comment'],
    mode: 'auto',
    secret: { keyId: 'kid-2024', nonce: 'AAECAwQFBgcICQoL', ciphertext: 'q83vASNFZ4mrze8BI0Vn+/==', tag: 'ABEiM0RVZneImaq7zN3u/w==' },
    config: { owner: 'octo', repo: 'hello-wörld', nested: { labels: ['bug', '🐛'], none: null } },
    credentialId: `cred-${suffix}`,
    externalId: null,
    status: 'registering',
    createdAt: fixedDate(),
    updatedAt: fixedDate(),
    ...overrides,
  };
}

async function rejection(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The behaviour every WebhookRepository adapter shares; `webhooks()` is a fresh, empty repository. */
export function webhookRepositoryContract(webhooks: () => WebhookRepository): void {
  describe('WebhookRepository', () => {
    describe('create / get / getByAgent', () => {
      it('round-trips every field, the sealed secret parts and the config', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        expect(await webhooks().get(registration.id)).to.deep.equal(registration);
        expect(await webhooks().getByAgent(registration.agentId)).to.deep.equal(registration);
      });

      it('round-trips a manual, active registration without credential, at millisecond precision', async () => {
        const registration = webhookRegistrationFixture({ mode: 'manual', status: 'active', credentialId: null, externalId: null, events: ['message'], config: {}, createdAt: fixedDate(1), updatedAt: fixedDate(999_999) });
        await webhooks().create(registration);
        const stored = await webhooks().get(registration.id);
        expect(stored).to.deep.equal(registration);
        expect(stored!.updatedAt.getTime()).to.equal(registration.updatedAt.getTime());
      });

      it('answers null for an unknown id or an agent without registration', async () => {
        expect(await webhooks().get('no-such-webhook')).to.equal(null);
        expect(await webhooks().getByAgent('no-such-agent')).to.equal(null);
      });

      it('refuses a duplicate id with a ConflictError, keeping the first', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        await expectConflict(webhooks().create({ ...registration, agentId: 'another-agent' }));
        expect(await webhooks().get(registration.id)).to.deep.equal(registration);
        expect(await webhooks().getByAgent('another-agent')).to.equal(null);
      });

      it('refuses a second registration of the same agent with a ConflictError, keeping the first', async () => {
        const first = webhookRegistrationFixture();
        await webhooks().create(first);
        const second = webhookRegistrationFixture({ agentId: first.agentId });
        await expectConflict(webhooks().create(second));
        expect(await webhooks().get(second.id)).to.equal(null);
        expect(await webhooks().getByAgent(first.agentId)).to.deep.equal(first);
      });

      it('lets exactly one of concurrent registrations of an agent in', async () => {
        const agentId = `agent-${uniqueSuffix()}`;
        const attempts = Array.from({ length: 5 }, () => webhookRegistrationFixture({ agentId }));
        const results = await Promise.allSettled(attempts.map((r) => webhooks().create(r)));
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
        expect((await webhooks().getByAgent(agentId))?.id).to.equal(winner.id);
      });
    });

    describe('markActive', () => {
      it('makes a registering registration active with its external id and time', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        expect(await webhooks().markActive(registration.id, 'hook-5001', fixedDate(5_000))).to.equal(true);
        expect(await webhooks().get(registration.id)).to.deep.equal({ ...registration, status: 'active', externalId: 'hook-5001', updatedAt: fixedDate(5_000) });
      });

      it('answers false, changing nothing, for an active or unknown registration', async () => {
        const registration = webhookRegistrationFixture({ status: 'active', externalId: 'hook-1' });
        await webhooks().create(registration);
        expect(await webhooks().markActive(registration.id, 'hook-2', fixedDate(5_000))).to.equal(false);
        expect(await webhooks().get(registration.id)).to.deep.equal(registration);
        expect(await webhooks().markActive('no-such-webhook', 'hook-3', fixedDate(5_000))).to.equal(false);
      });
    });

    describe('updateSecret', () => {
      const resealed = (n: number): EncryptedSecret => ({ keyId: `kid-new-${n}`, nonce: `bm9uY2Ut${n}`, ciphertext: `c2VhbGVk+/${n}==`, tag: `dGFn${n}` });

      it('replaces the secret when the stored one is the expected one, changing nothing else', async () => {
        const registration = webhookRegistrationFixture({ status: 'active', externalId: 'hook-1', updatedAt: fixedDate(77) });
        await webhooks().create(registration);
        expect(await webhooks().updateSecret(registration.id, resealed(1), registration.secret)).to.equal(true);
        expect(await webhooks().get(registration.id)).to.deep.equal({ ...registration, secret: resealed(1) });
        expect(await webhooks().getByAgent(registration.agentId)).to.deep.equal({ ...registration, secret: resealed(1) });
      });

      it('answers false, changing nothing, when any part of the stored secret differs from the expected one', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        for (const part of ['keyId', 'nonce', 'ciphertext', 'tag'] as const) {
          const stale = { ...registration.secret, [part]: `${registration.secret[part]}x` };
          expect(await webhooks().updateSecret(registration.id, resealed(2), stale), part).to.equal(false);
        }
        expect(await webhooks().get(registration.id)).to.deep.equal(registration);
      });

      it('answers false for an unknown registration', async () => {
        expect(await webhooks().updateSecret('no-such-webhook', resealed(3), webhookRegistrationFixture().secret)).to.equal(false);
        expect(await webhooks().get('no-such-webhook')).to.equal(null);
      });

      it('lets exactly one of concurrent updates from the same expected secret win, and keeps its secret', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const attempts = Array.from({ length: 12 }, (_, i) => resealed(100 + i));
        const results = await Promise.all(attempts.map((secret) => webhooks().updateSecret(registration.id, secret, registration.secret)));
        expect(results.filter(Boolean)).to.have.length(1);
        expect((await webhooks().get(registration.id))?.secret).to.deep.equal(attempts[results.indexOf(true)]);
      });

      it('lets a second update go through only from the secret the first one wrote', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        expect(await webhooks().updateSecret(registration.id, resealed(4), registration.secret)).to.equal(true);
        expect(await webhooks().updateSecret(registration.id, resealed(5), registration.secret)).to.equal(false);
        expect(await webhooks().updateSecret(registration.id, resealed(5), resealed(4))).to.equal(true);
        expect((await webhooks().get(registration.id))?.secret).to.deep.equal(resealed(5));
      });
    });

    describe('listAll', () => {
      it('pages through every registration exactly once, ordered by id, as stored', async () => {
        const prefix = `webhook-page-${uniqueSuffix()}-`;
        const ids = Array.from({ length: 13 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
        const made = new Map<string, WebhookRegistration>();
        const shuffled = ids.map((id, i) => ({ id, rank: (i * 5) % ids.length })).sort((a, b) => a.rank - b.rank);
        for (const [i, { id }] of shuffled.entries()) {
          const registration = webhookRegistrationFixture({ id, mode: i % 2 ? 'manual' : 'auto', status: i % 3 ? 'active' : 'registering' });
          made.set(registration.id, registration);
          await webhooks().create(registration);
        }
        const seen: WebhookRegistration[] = [];
        let afterId: string | null = null;
        for (let page = 0; page < 10; page += 1) {
          const batch: WebhookRegistration[] = await webhooks().listAll(afterId, 4);
          expect(batch.length).to.be.at.most(4);
          if (batch.length === 0) break;
          seen.push(...batch);
          afterId = batch[batch.length - 1]!.id;
        }
        expect(seen.map((r) => r.id)).to.deep.equal(ids);
        for (const registration of seen) expect(registration).to.deep.equal(made.get(registration.id));
      });

      it('answers the rest after an id, nothing after the last, and nothing for a zero limit', async () => {
        const made = [webhookRegistrationFixture({ id: 'webhook-a' }), webhookRegistrationFixture({ id: 'webhook-b' })];
        for (const registration of made) await webhooks().create(registration);
        expect(await webhooks().listAll(null, 2)).to.deep.equal(made);
        expect(await webhooks().listAll('webhook-a', 10)).to.deep.equal([made[1]]);
        expect(await webhooks().listAll('webhook-b', 10)).to.deep.equal([]);
        expect(await webhooks().listAll(null, 0)).to.deep.equal([]);
      });

      it('answers an empty list on empty storage', async () => {
        expect(await webhooks().listAll(null, 100)).to.deep.equal([]);
      });

      it('is not changed by mutating a listed registration', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const [listed] = await webhooks().listAll(null, 1);
        (listed!.secret as { keyId: string }).keyId = 'other';
        (listed!.events as string[]).length = 0;
        listed!.updatedAt.setTime(0);
        expect(await webhooks().get(registration.id)).to.deep.equal(registration);
      });
    });

    describe('delete', () => {
      it('removes the registration and its deliveries; the agent can be registered again', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        await webhooks().recordDelivery({ webhookId: registration.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate(1) });
        expect(await webhooks().delete(registration.id)).to.equal(true);
        expect(await webhooks().get(registration.id)).to.equal(null);
        expect(await webhooks().getByAgent(registration.agentId)).to.equal(null);
        expect(await webhooks().getDelivery(registration.id, 'd-1')).to.equal(null);
        const again = webhookRegistrationFixture({ agentId: registration.agentId });
        await webhooks().create(again);
        expect(await webhooks().getByAgent(registration.agentId)).to.deep.equal(again);
      });

      it('answers false for an unknown registration', async () => {
        expect(await webhooks().delete('no-such-webhook')).to.equal(false);
      });
    });

    describe('deliveries', () => {
      it('records a delivery once: the repeat answers false and changes nothing', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const record = { webhookId: registration.id, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', eventType: 'issues', receivedAt: fixedDate(10) };
        expect(await webhooks().recordDelivery(record)).to.equal(true);
        expect(await webhooks().getDelivery(registration.id, record.deliveryId)).to.deep.equal({ ...record, executionId: null });
        expect(await webhooks().recordDelivery({ ...record, eventType: 'push', receivedAt: fixedDate(20) })).to.equal(false);
        expect(await webhooks().getDelivery(registration.id, record.deliveryId)).to.deep.equal({ ...record, executionId: null });
      });

      it('lets exactly one of concurrent recordings of a delivery in', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => webhooks().recordDelivery({ webhookId: registration.id, deliveryId: 'same', eventType: 'issues', receivedAt: fixedDate(i) })));
        expect(results.filter(Boolean)).to.have.length(1);
      });

      it('keeps delivery ids apart per webhook', async () => {
        const a = webhookRegistrationFixture();
        const b = webhookRegistrationFixture();
        await webhooks().create(a);
        await webhooks().create(b);
        expect(await webhooks().recordDelivery({ webhookId: a.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate() })).to.equal(true);
        expect(await webhooks().recordDelivery({ webhookId: b.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate() })).to.equal(true);
      });

      it('refuses a delivery of an unknown webhook with a NotFoundError', async () => {
        const error = await rejection(webhooks().recordDelivery({ webhookId: 'no-such-webhook', deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate() }));
        expect(error).to.be.instanceOf(NotFoundError);
        expect(await webhooks().getDelivery('no-such-webhook', 'd-1')).to.equal(null);
      });

      it('notes the execution a delivery started', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        await webhooks().recordDelivery({ webhookId: registration.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate() });
        expect(await webhooks().setDeliveryExecution(registration.id, 'd-1', 'execution-1')).to.equal(true);
        expect((await webhooks().getDelivery(registration.id, 'd-1'))?.executionId).to.equal('execution-1');
        expect(await webhooks().setDeliveryExecution(registration.id, 'd-2', 'execution-2')).to.equal(false);
        expect(await webhooks().getDelivery(registration.id, 'd-2')).to.equal(null);
      });

      it('forgets a delivery, which can then be recorded again', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const record = { webhookId: registration.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate() };
        await webhooks().recordDelivery(record);
        expect(await webhooks().deleteDelivery(registration.id, 'd-1')).to.equal(true);
        expect(await webhooks().getDelivery(registration.id, 'd-1')).to.equal(null);
        expect(await webhooks().deleteDelivery(registration.id, 'd-1')).to.equal(false);
        expect(await webhooks().recordDelivery(record)).to.equal(true);
      });
    });

    describe('pruneDeliveries', () => {
      it('forgets the deliveries of every webhook received before the cutoff, keeps those at or after it, and counts', async () => {
        const a = webhookRegistrationFixture();
        const b = webhookRegistrationFixture();
        await webhooks().create(a);
        await webhooks().create(b);
        const cutoff = fixedDate(10_000);
        const at = (webhookId: string, deliveryId: string, offsetMs: number) => ({ webhookId, deliveryId, eventType: 'issues', receivedAt: fixedDate(offsetMs) });
        const old = [at(a.id, 'a-old-1', 0), at(a.id, 'a-old-2', 9_999), at(b.id, 'b-old-1', -86_400_000)];
        const kept = [at(a.id, 'a-at-cutoff', 10_000), at(a.id, 'a-new', 10_001), at(b.id, 'b-new', 86_400_000)];
        for (const record of [...old, ...kept]) expect(await webhooks().recordDelivery(record)).to.equal(true);
        await webhooks().setDeliveryExecution(a.id, 'a-old-1', 'execution-1');
        await webhooks().setDeliveryExecution(a.id, 'a-new', 'execution-2');

        expect(await webhooks().pruneDeliveries(cutoff)).to.equal(3);
        for (const record of old) expect(await webhooks().getDelivery(record.webhookId, record.deliveryId), record.deliveryId).to.equal(null);
        for (const record of kept) {
          expect(await webhooks().getDelivery(record.webhookId, record.deliveryId)).to.deep.equal({ ...record, executionId: record.deliveryId === 'a-new' ? 'execution-2' : null });
        }
        // The registrations stay; a forgotten delivery id can be recorded again, a kept one cannot.
        expect(await webhooks().get(a.id)).to.deep.equal(a);
        expect(await webhooks().get(b.id)).to.deep.equal(b);
        expect(await webhooks().recordDelivery(at(a.id, 'a-old-1', 20_000))).to.equal(true);
        expect(await webhooks().recordDelivery(at(a.id, 'a-new', 20_000))).to.equal(false);
        expect(await webhooks().pruneDeliveries(cutoff)).to.equal(0);
      });

      it('answers 0 when nothing is old enough, or nothing is recorded', async () => {
        expect(await webhooks().pruneDeliveries(fixedDate())).to.equal(0);
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        await webhooks().recordDelivery({ webhookId: registration.id, deliveryId: 'd-1', eventType: 'issues', receivedAt: fixedDate(5) });
        expect(await webhooks().pruneDeliveries(fixedDate(5))).to.equal(0);
        expect(await webhooks().getDelivery(registration.id, 'd-1')).not.to.equal(null);
      });

      it('forgets many old deliveries at once (more than one batch), keeping the new ones', async () => {
        const registration = webhookRegistrationFixture();
        await webhooks().create(registration);
        const old = Array.from({ length: 2_345 }, (_, i) => ({ webhookId: registration.id, deliveryId: `old-${i}`, eventType: 'issues', receivedAt: fixedDate(i) }));
        const recent = Array.from({ length: 20 }, (_, i) => ({ webhookId: registration.id, deliveryId: `new-${i}`, eventType: 'issues', receivedAt: fixedDate(1_000_000 + i) }));
        for (let i = 0; i < old.length; i += 200) await Promise.all(old.slice(i, i + 200).map((record) => webhooks().recordDelivery(record)));
        await Promise.all(recent.map((record) => webhooks().recordDelivery(record)));
        expect(await webhooks().pruneDeliveries(fixedDate(1_000_000))).to.equal(old.length);
        for (const record of [old[0]!, old[1_000]!, old.at(-1)!]) expect(await webhooks().getDelivery(registration.id, record.deliveryId)).to.equal(null);
        for (const record of recent) expect(await webhooks().getDelivery(registration.id, record.deliveryId)).to.deep.equal({ ...record, executionId: null });
      });
    });
  });
}
