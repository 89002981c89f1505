import { expect } from 'chai';
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
  });
}
