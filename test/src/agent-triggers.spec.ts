// The trigger use cases (activate, deactivate, ingest) in one process on the memory adapters,
// the real secret cipher and outbound HTTP, with a test provider `acme` whose webhook manager
// signs like GitHub (HMAC-SHA256 of the raw body) and registers hooks at a local HTTP server.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Container } from 'inversify';
import {
  AgentService,
  AgentTriggerService,
  BlockRegistry,
  coreModule,
  CredentialService,
  DomainError,
  ExecutionService,
  ExecutionWorker,
  ProviderRegistry,
  UserService,
  WebhookRepository,
  type Block,
  type WebhookDelivery,
  type WebhookManager,
} from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';
import { outboundHttpModule } from '@blockyard/http-outbound';
import { AesGcmSecretCipher, KeyRing, secretCipherModule } from '@blockyard/secret-cipher';

const PUBLIC_URL = 'https://blockyard.example';

/** The acme hooks API on 127.0.0.1: POST /hooks answers an id, DELETE /hooks/:id; `failNext` makes the next call fail. */
interface AcmeApi {
  url: string;
  calls: Array<{ method: string; path: string; authorization: string | undefined; body: any }>;
  hooks: Map<string, any>;
  failNext(status: number, message: string): void;
  close(): Promise<void>;
}

async function startAcmeApi(): Promise<AcmeApi> {
  const calls: AcmeApi['calls'] = [];
  const hooks = new Map<string, any>();
  let failure: { status: number; message: string } | null = null;
  let next = 1;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : null;
      calls.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization, body });
      const reply = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (failure) {
        const f = failure;
        failure = null;
        return reply(f.status, { message: f.message });
      }
      if (req.method === 'POST' && req.url === '/hooks') {
        const id = `hook-${next++}`;
        hooks.set(id, body);
        return reply(201, { id });
      }
      const m = /^\/hooks\/(.+)$/.exec(req.url ?? '');
      if (req.method === 'DELETE' && m && hooks.delete(m[1]!)) return reply(200, {});
      reply(404, { message: 'no such hook' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    hooks,
    failNext: (status, message) => void (failure = { status, message }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Deliveries signed in X-Acme-Signature, typed by X-Acme-Event, identified by X-Acme-Delivery; `ping` is a handshake. */
const acmeManager: WebhookManager = {
  verify: (delivery, secret) => delivery.headers['x-acme-signature'] === sign(secret, delivery.rawBody.toString('utf8')),
  events: (delivery) => [{ type: delivery.headers['x-acme-event'] ?? '', payload: delivery.body, ...(delivery.headers['x-acme-delivery'] ? { deliveryId: delivery.headers['x-acme-delivery'] } : {}) }],
  handshake: (delivery) => (delivery.headers['x-acme-event'] === 'ping' ? { body: { pong: true } } : null),
  async register({ fetch, url, secret, events, config }) {
    const res = await fetch<{ id: string; message?: string }>('/hooks', { method: 'POST', json: { url, secret, events, board: config.board } });
    if (!res.ok) throw new Error(`acme answered ${res.status}: ${res.data.message}`);
    return { externalId: res.data.id };
  },
  async deregister({ fetch, externalId }) {
    const res = await fetch<{ message?: string }>(`/hooks/${externalId}`, { method: 'DELETE' });
    if (!res.ok) throw new Error(`acme answered ${res.status}: ${res.data.message}`);
  },
};

const acmeTrigger: Block = {
  definition: {
    id: 'acme.on_card',
    name: 'Acme card event',
    description: '',
    categories: [],
    kind: 'trigger',
    input_schema: { type: 'object', properties: { payload: { type: 'object', default: {} }, board: { type: 'string' } } },
    output_schema: { type: 'object', properties: { title: { type: 'string' } } },
    credentials: { provider: 'acme', kinds: ['api_key'] },
    webhook: { events: ['card.created', 'card.moved'], config_inputs: ['board'] },
  },
  async *handler({ payload }) {
    yield ['title', (payload as { card: { title: string } }).card.title];
  },
};
const plainTrigger: Block = { ...acmeTrigger, definition: { ...acmeTrigger.definition, id: 'acme.on_anything', webhook: undefined } };

const triggerGraph = (credentialId: string, blockId = 'acme.on_card') => ({
  nodes: [
    { id: 'on-card', kind: 'block' as const, blockId, inputs: { board: 'roadmap' }, credentials: { credentials: credentialId } },
    { id: 'title', kind: 'output' as const, name: 'title', schema: { type: 'string' } },
  ],
  links: [{ sourceNodeId: 'on-card', sourceOutput: 'title', sinkNodeId: 'title', sinkInput: 'value', static: false }],
});

describe('agent trigger use cases (memory adapters, real cipher and outbound HTTP)', () => {
  let acme: AcmeApi;
  let container: Container;
  let triggers: AgentTriggerService;
  let agents: AgentService;
  let worker: ExecutionWorker;
  let aliceId: string;
  let credentialId: string;

  beforeEach(async () => {
    acme = await startAcmeApi();
    container = new Container();
    const ring = KeyRing.of([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
    container.load(
      coreModule({ engine: { cancelGraceMs: 50 }, worker: { pollMs: 10 }, providerBaseUrls: { acme: acme.url }, webhooks: { publicUrl: `${PUBLIC_URL}/` } }),
      memoryStorageModule(),
      memoryQueueModule(),
      secretCipherModule(new AesGcmSecretCipher(ring)),
      outboundHttpModule({ allowHosts: ['127.0.0.1'] }),
    );
    container.get<BlockRegistry>(BlockRegistry).registerAll([acmeTrigger, plainTrigger], 'spec');
    container.get(ProviderRegistry).registerAll(
      [{ name: 'acme', display_name: 'Acme', auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }], webhooks: { event_types: ['card.created', 'card.moved', 'card.deleted'], mode: 'auto' } }],
      'spec',
      { acme: { ...acmeManager } },
    );
    aliceId = (await container.get(UserService).createUser({ email: 'alice@example.com', name: 'Alice' })).id;
    credentialId = (await container.get(CredentialService).createCredential(aliceId, { provider: 'acme', kind: 'api_key', secret: { api_key: 'acme-key-1' } })).id;
    triggers = container.get(AgentTriggerService);
    agents = container.get(AgentService);
    worker = container.get(ExecutionWorker);
    worker.start();
  });

  afterEach(async () => {
    await worker.stop();
    await acme.close();
  });

  const newAgent = async (graph = triggerGraph(credentialId)) => (await agents.createAgent(aliceId, { name: 'On cards', ...graph })).agent.id;
  const kindOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? `${e.kind}: ${e.message}` : `not a domain error: ${String(e)}`));
  const delivery = (event: string, payload: unknown, secret: string, deliveryId?: string): WebhookDelivery => {
    const raw = JSON.stringify(payload);
    return { headers: { 'x-acme-event': event, 'x-acme-signature': sign(secret, raw), ...(deliveryId ? { 'x-acme-delivery': deliveryId } : {}) }, rawBody: Buffer.from(raw), body: payload };
  };
  const ingest = (webhookId: string, d: WebhookDelivery, provider = 'acme') => triggers.ingest(provider, webhookId, async () => d);
  const finished = (id: string) => container.get(ExecutionService).waitForExecution(aliceId, id, 5_000);

  describe('activate', () => {
    it('auto: registers at the provider with the trigger credential, our URL, a new secret, the declared events and config', async () => {
      const agentId = await newAgent();
      const { registration, url, secret } = await triggers.activate(aliceId, agentId, { config: { extra: 1 } });
      expect(secret).to.equal(null);
      expect(url).to.equal(`${PUBLIC_URL}/webhooks/acme/${registration.id}`);
      expect(registration).to.deep.include({ agentId, triggerNodeId: 'on-card', blockId: 'acme.on_card', provider: 'acme', mode: 'auto', status: 'active', externalId: 'hook-1', credentialId });
      expect(registration.events).to.deep.equal(['card.created', 'card.moved']);
      expect(registration.config).to.deep.equal({ board: 'roadmap', extra: 1 });
      const [call] = acme.calls;
      expect(call).to.deep.include({ method: 'POST', path: '/hooks', authorization: 'Bearer acme-key-1' });
      expect(call!.body).to.deep.include({ url, events: ['card.created', 'card.moved'], board: 'roadmap' });
      expect(call!.body.secret).to.be.a('string').with.length.greaterThan(30);
      const stored = await container.get<WebhookRepository>(WebhookRepository).get(registration.id);
      expect(stored).to.deep.equal(registration);
      expect(JSON.stringify(stored)).not.to.contain(call!.body.secret);
    });

    it('manual: answers the generated secret once and registers nothing; a given secret is kept and not answered', async () => {
      const manual = await triggers.activate(aliceId, await newAgent(), { mode: 'manual' });
      expect(manual.secret).to.be.a('string').with.length.greaterThan(30);
      expect(manual.registration).to.deep.include({ mode: 'manual', status: 'active', externalId: null });
      expect(acme.calls).to.deep.equal([]);
      const given = await triggers.activate(aliceId, await newAgent(), { mode: 'manual', secret: 'provider-issued-signing-secret' });
      expect(given.secret).to.equal(null);
      const outcome = await ingest(given.registration.id, delivery('card.created', { card: { title: 'Given' } }, 'provider-issued-signing-secret'));
      expect(outcome.kind).to.equal('accepted');
    });

    it('refuses agents it cannot activate, naming why, and stores nothing', async () => {
      const noTrigger = (await agents.createAgent(aliceId, { name: 'x', nodes: [{ id: 'o', kind: 'output', name: 'o', schema: {} }], links: [] })).agent.id;
      expect(await kindOf(triggers.activate(aliceId, noTrigger))).to.equal(`invalid_input: agent ${noTrigger} has no trigger node: add a trigger block (e.g. github.issue_event) to activate it`);
      const undeclared = await newAgent(triggerGraph(credentialId, 'acme.on_anything'));
      expect(await kindOf(triggers.activate(aliceId, undeclared))).to.equal('invalid_input: trigger block acme.on_anything (node "on-card") declares no webhook events: it cannot be activated');
      const graph = triggerGraph(credentialId);
      const needsInput = (await agents.createAgent(aliceId, { name: 'x', nodes: [...graph.nodes, { id: 'in', kind: 'input', name: 'topic', schema: { type: 'string' }, required: true }], links: graph.links })).agent.id;
      expect(await kindOf(triggers.activate(aliceId, needsInput))).to.equal(`invalid_input: agent ${needsInput} has required inputs (topic) that a webhook delivery cannot give: give them defaults or make them optional`);
      expect(await kindOf(triggers.activate(aliceId, await newAgent(), { mode: 'auto', secret: 's' }))).to.match(/^invalid_input: a secret is only taken in manual mode/);
      expect(await kindOf(triggers.activate('someone-else', await newAgent()))).to.match(/^not_found: agent .* not found$/);
      for (const id of [noTrigger, undeclared, needsInput]) expect(await container.get<WebhookRepository>(WebhookRepository).getByAgent(id)).to.equal(null);
      expect(acme.calls).to.deep.equal([]);
    });

    it('refuses an active agent (409)', async () => {
      const agentId = await newAgent();
      await triggers.activate(aliceId, agentId);
      expect(await kindOf(triggers.activate(aliceId, agentId, { mode: 'manual' }))).to.equal(`conflict: agent ${agentId} is already active: deactivate it first`);
    });

    it("reports the provider's refusal without the secret, and keeps no registration", async () => {
      const agentId = await newAgent();
      acme.failNext(403, 'no admin rights');
      expect(await kindOf(triggers.activate(aliceId, agentId))).to.equal(`invalid_input: activating agent ${agentId} at acme failed: acme answered 403: no admin rights`);
      expect(await container.get<WebhookRepository>(WebhookRepository).getByAgent(agentId)).to.equal(null);
    });

    it('blanks out the secret should the provider code put it in its error', async () => {
      const agentId = await newAgent();
      const leaky: WebhookManager = { ...acmeManager, register: async ({ secret }) => Promise.reject(new Error(`bad secret ${secret}`)) };
      container.get(ProviderRegistry).get('acme')!.webhooks!.register = leaky.register;
      expect(await kindOf(triggers.activate(aliceId, agentId))).to.equal(`invalid_input: activating agent ${agentId} at acme failed: bad secret [secret]`);
    });
  });

  describe('ingest', () => {
    it('starts one execution per event with its payload as the trigger input, and a redelivery starts none', async () => {
      const { registration } = await triggers.activate(aliceId, await newAgent());
      const secret = acme.calls[0]!.body.secret as string;
      const first = await ingest(registration.id, delivery('card.created', { card: { title: 'Ship it' } }, secret, 'd-1'));
      expect(first.kind).to.equal('accepted');
      const [executionId] = (first as { executionIds: readonly string[] }).executionIds;
      const done = await finished(executionId!);
      expect(done.status, done.error ?? '').to.equal('completed');
      expect(done.outputs).to.deep.equal({ title: ['Ship it'] });
      const again = await ingest(registration.id, delivery('card.created', { card: { title: 'Ship it' } }, secret, 'd-1'));
      expect(again).to.deep.equal({ kind: 'duplicate', executionId });
      expect((await container.get<WebhookRepository>(WebhookRepository).getDelivery(registration.id, 'd-1'))?.executionId).to.equal(executionId);
    });

    it('looks the webhook up before reading the body: an unknown id or another provider is a 404', async () => {
      const { registration } = await triggers.activate(aliceId, await newAgent());
      let read = 0;
      const reader = async () => {
        read++;
        return delivery('card.created', {}, 'x');
      };
      expect(await kindOf(triggers.ingest('acme', 'no-such-webhook', reader))).to.equal('not_found: no webhook no-such-webhook for provider acme');
      expect(await kindOf(triggers.ingest('github', registration.id, reader))).to.equal(`not_found: no webhook ${registration.id} for provider github`);
      expect(read).to.equal(0);
    });

    it('refuses a wrong or missing signature (401), answers a handshake, ignores events the trigger does not listen to', async () => {
      const { registration } = await triggers.activate(aliceId, await newAgent());
      const secret = acme.calls[0]!.body.secret as string;
      expect(await kindOf(ingest(registration.id, delivery('card.created', { card: { title: 'x' } }, 'wrong')))).to.equal('unauthorized: missing or invalid webhook signature');
      const unsigned = delivery('card.created', { card: { title: 'x' } }, secret);
      delete unsigned.headers['x-acme-signature'];
      expect(await kindOf(ingest(registration.id, unsigned))).to.equal('unauthorized: missing or invalid webhook signature');
      expect(await ingest(registration.id, delivery('ping', {}, secret))).to.deep.equal({ kind: 'handshake', status: 200, body: { pong: true } });
      expect(await ingest(registration.id, delivery('card.deleted', { card: { title: 'x' } }, secret, 'd-2'))).to.deep.equal({ kind: 'ignored', detail: 'event card.deleted: the trigger listens to card.created, card.moved' });
      // An ignored delivery is not recorded: nothing to deduplicate.
      expect(await container.get<WebhookRepository>(WebhookRepository).getDelivery(registration.id, 'd-2')).to.equal(null);
    });

    it('ignores deliveries once the agent no longer has the trigger node', async () => {
      const agentId = await newAgent();
      const { registration } = await triggers.activate(aliceId, agentId);
      const secret = acme.calls[0]!.body.secret as string;
      await agents.updateAgent(aliceId, agentId, { nodes: [{ id: 'o', kind: 'output', name: 'o', schema: {} }], links: [] });
      const outcome = await ingest(registration.id, delivery('card.created', { card: { title: 'x' } }, secret, 'd-3'));
      expect(outcome).to.deep.equal({ kind: 'ignored', detail: `agent ${agentId} (version 2) no longer has trigger node "on-card" (acme.on_card): activate it again` });
    });

    it('forgets a delivery whose execution could not start, so that the retry starts it', async () => {
      const agentId = await newAgent();
      const { registration } = await triggers.activate(aliceId, agentId);
      const secret = acme.calls[0]!.body.secret as string;
      // The trigger's credential is gone: the execution cannot start.
      await container.get(CredentialService).deleteCredential(aliceId, credentialId);
      const retried = delivery('card.moved', { card: { title: 'Retry me' } }, secret, 'd-4');
      expect(await kindOf(ingest(registration.id, retried))).to.equal(`not_found: node on-card: credential ${credentialId} not found`);
      expect(await container.get<WebhookRepository>(WebhookRepository).getDelivery(registration.id, 'd-4')).to.equal(null);
      // Fixed: the trigger node names a new credential; the provider's retry starts the execution.
      const replacement = (await container.get(CredentialService).createCredential(aliceId, { provider: 'acme', kind: 'api_key', secret: { api_key: 'acme-key-2' } })).id;
      await agents.updateAgent(aliceId, agentId, triggerGraph(replacement));
      const outcome = await ingest(registration.id, retried);
      expect(outcome.kind).to.equal('accepted');
      const done = await finished((outcome as { executionIds: readonly string[] }).executionIds[0]!);
      expect(done.outputs).to.deep.equal({ title: ['Retry me'] });
    });
  });

  describe('deactivate', () => {
    it('removes the hook at the provider with the same credential and config, then the registration', async () => {
      const agentId = await newAgent();
      const { registration } = await triggers.activate(aliceId, agentId);
      const outcome = await triggers.deactivate(aliceId, agentId);
      expect(outcome).to.deep.include({ deregistered: true, detail: null });
      expect(acme.calls.at(-1)).to.deep.include({ method: 'DELETE', path: '/hooks/hook-1', authorization: 'Bearer acme-key-1' });
      expect(acme.hooks.size).to.equal(0);
      expect(await kindOf(ingest(registration.id, delivery('card.created', {}, 'x')))).to.match(/^not_found/);
      expect(await kindOf(triggers.deactivate(aliceId, agentId))).to.equal(`conflict: agent ${agentId} is not active`);
      expect(await triggers.deactivateIfActive(aliceId, agentId)).to.equal(null);
    });

    it("reports the provider's failure and removes the registration regardless", async () => {
      const agentId = await newAgent();
      const { registration } = await triggers.activate(aliceId, agentId);
      acme.failNext(403, 'no admin rights');
      const outcome = await triggers.deactivate(aliceId, agentId);
      expect(outcome).to.deep.include({ deregistered: false, detail: 'acme: acme answered 403: no admin rights' });
      expect(await container.get<WebhookRepository>(WebhookRepository).get(registration.id)).to.equal(null);
    });

    it('has nothing to deregister in manual mode', async () => {
      const agentId = await newAgent();
      await triggers.activate(aliceId, agentId, { mode: 'manual' });
      expect(await triggers.deactivate(aliceId, agentId)).to.deep.include({ deregistered: null, detail: null });
      expect(acme.calls).to.deep.equal([]);
    });
  });
});
