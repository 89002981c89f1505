import type { AgentRepository } from '../agent/agent.repository.port.js';
import { agentInputSchema, type AgentVersion, type BlockNode } from '../agent/agent.js';
import type { BlockRegistry, RegisteredBlock } from '../block/block-registry.port.js';
import { CREDENTIALS_INPUT } from '../agent/agent-graph.validator.js';
import type { SecretCipher } from '../credential/secret-cipher.port.js';
import type { RunContextFactory } from '../engine/run-context-factory.js';
import { ConflictError, DomainError, NotFoundError, UnauthorizedError, UnexpectedError, ValidationError } from '../errors/domain.errors.js';
import type { ProviderRegistry, RegisteredProvider } from '../provider/provider-registry.js';
import type { WebhookDelivery, WebhookEvent, WebhookManager } from '../provider/webhook-manager.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { Logger } from '../system/logger.port.js';
import type { ContextFetch } from '../outbound/outbound-http.port.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret, webhookPath, type WebhookMode, type WebhookRegistration } from '../webhook/webhook-registration.js';
import type { ExecutionService } from './execution.service.js';

export interface AgentTriggerServiceDeps {
  agents: AgentRepository;
  webhooks: WebhookRepository;
  registry: BlockRegistry;
  providers: ProviderRegistry;
  cipher: SecretCipher;
  /** The trigger node's credential and context.fetch, as its runs get them, for register/deregister. */
  runContexts: RunContextFactory;
  executions: ExecutionService;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /**
   * Where providers reach this server (scheme, host, optional path; no trailing slash):
   * webhook URLs are `${publicUrl}/webhooks/:provider/:id`. Null: URLs are paths only, and
   * auto mode is unavailable.
   */
  publicUrl: string | null;
  /** Time limit of a provider's register or deregister call. Default 30 s. */
  providerTimeoutMs?: number;
}

/** How an agent is activated. */
export interface ActivateOptions {
  /** Default: the provider's declared mode. */
  mode?: WebhookMode;
  /** Provider settings (GitHub: owner, repo), over the trigger node's config inputs. */
  config?: Record<string, unknown>;
  /** Manual mode: a signing secret the provider issued, instead of a generated one. */
  secret?: string;
}

/** An activated agent's registration, its URL, and (manual mode, generated) the secret to paste, shown this once. */
export interface Activation {
  readonly registration: WebhookRegistration;
  readonly url: string;
  readonly secret: string | null;
}

/** A removed registration, and whether the provider's webhook went with it (null: the server had not registered one). */
export interface Deactivation {
  readonly registration: WebhookRegistration;
  readonly deregistered: boolean | null;
  /** Why deregistering failed; never a secret. */
  readonly detail: string | null;
}

/** What a verified delivery did. */
export type IngressOutcome =
  /** The provider checked the endpoint (GitHub ping, Slack url_verification): answer it this. */
  | { readonly kind: 'handshake'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'ignored'; readonly detail: string }
  /** Every event of it was received before: the execution the first delivery started (null while starting). */
  | { readonly kind: 'duplicate'; readonly executionId: string | null }
  | { readonly kind: 'accepted'; readonly executionIds: readonly string[] };

const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;

/** A trigger block's context.fetch for one provider call; `release` aborts whatever is left of it. */
interface ProviderFetch {
  create(): ContextFetch;
  release(): void;
}

/**
 * Use cases activateAgent, deactivateAgent, getWebhook and ingest: the inbound webhooks that
 * start agents from provider events. An activated agent has one registration; deliveries to
 * its URL are verified with its secret by the provider's webhook manager, filtered by the
 * trigger block's declared events, recorded by delivery id (a retry starts nothing new), and
 * each start one execution of the agent with the event's payload as the trigger's input.
 */
export class AgentTriggerService {
  readonly #timeoutMs: number;

  constructor(private readonly deps: AgentTriggerServiceDeps) {
    this.#timeoutMs = deps.providerTimeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  }

  /**
   * Activates the caller's agent through its one trigger node: stores a registration with a
   * new sealed secret and, in auto mode, registers the webhook at the provider with the
   * trigger node's credential (the registration is removed again when that fails). Problems
   * with the agent, its trigger or the provider are ValidationErrors naming why; an agent
   * already active is a ConflictError.
   */
  async activate(userId: string, agentId: string, options: ActivateOptions = {}): Promise<Activation> {
    const { webhooks, clock, ids, cipher, logger } = this.deps;
    const { version, node, block } = await this.#triggerOf(userId, agentId);
    const declaration = block.definition.webhook;
    if (!declaration) throw new ValidationError(`trigger block ${block.definition.id} (node "${node.id}") declares no webhook events: it cannot be activated`);
    const provider = this.#providerOf(block);
    const manager = provider?.webhooks;
    if (!provider || !manager || !provider.definition.webhooks) {
      throw new ValidationError(`provider ${this.#providerName(block)} of trigger block ${block.definition.id} has no webhooks on this server`);
    }
    const required = (agentInputSchema(version).required as string[] | undefined) ?? [];
    if (required.length) {
      throw new ValidationError(`agent ${agentId} has required inputs (${required.join(', ')}) that a webhook delivery cannot give: give them defaults or make them optional`);
    }
    const mode: WebhookMode = options.mode ?? provider.definition.webhooks.mode ?? 'manual';
    if (mode === 'auto' && !manager.register) throw new ValidationError(`provider ${provider.definition.name} cannot register webhooks itself: activate in manual mode`);
    if (mode === 'auto' && options.secret !== undefined) throw new ValidationError('a secret is only taken in manual mode (in auto mode the server makes one)', [{ path: '/secret', message: 'is only allowed with mode manual' }]);
    if (mode === 'auto' && !this.deps.publicUrl) throw new ValidationError('this server has no public URL configured, so a provider cannot reach it: activate in manual mode or configure the public URL');
    if (await webhooks.getByAgent(agentId)) throw new ConflictError(`agent ${agentId} is already active: deactivate it first`);

    const config: Record<string, unknown> = {};
    for (const name of declaration.config_inputs ?? []) if (node.inputs[name] !== undefined) config[name] = node.inputs[name];
    Object.assign(config, options.config ?? {});
    const credentialId = node.credentials[CREDENTIALS_INPUT] ?? null;
    // Auto mode: the credential must be usable before anything is stored.
    const fetch = mode === 'auto' ? await this.#fetchFor(block, userId, credentialId) : null;

    const id = ids.next();
    const secret = options.secret ?? newWebhookSecret();
    const now = clock.now();
    const registration: WebhookRegistration = {
      id,
      userId,
      agentId,
      triggerNodeId: node.id,
      blockId: block.definition.id,
      provider: provider.definition.name,
      events: [...declaration.events],
      mode,
      secret: sealWebhookSecret(cipher, id, secret),
      config,
      credentialId,
      externalId: null,
      status: mode === 'auto' ? 'registering' : 'active',
      createdAt: now,
      updatedAt: now,
    };
    try {
      await webhooks.create(registration);
    } catch (e) {
      fetch?.release();
      throw e;
    }
    const url = this.urlOf(registration);
    if (mode === 'manual' || !fetch) {
      logger.info('agent activated', { agentId, webhookId: id, provider: registration.provider, mode });
      return { registration, url, secret: options.secret === undefined ? secret : null };
    }

    let externalId: string;
    try {
      ({ externalId } = await withTimeout(manager.register!({ fetch: fetch.create(), url, secret, events: [...registration.events], config: { ...config } }), this.#timeoutMs, 'registering the webhook'));
    } catch (e) {
      await webhooks.delete(id);
      const detail = scrub(messageOf(e), secret);
      logger.warn('webhook registration failed', { agentId, webhookId: id, provider: registration.provider, error: detail });
      throw new ValidationError(`activating agent ${agentId} at ${registration.provider} failed: ${detail}`);
    } finally {
      fetch.release();
    }
    const active: WebhookRegistration = { ...registration, externalId, status: 'active', updatedAt: clock.now() };
    if (!(await webhooks.markActive(id, externalId, active.updatedAt))) {
      // Deactivated while registering: take the provider's webhook away again.
      await this.#deregister(active);
      throw new ConflictError(`agent ${agentId} was deactivated while its webhook was being registered`);
    }
    logger.info('agent activated', { agentId, webhookId: id, provider: registration.provider, mode, externalId });
    return { registration: active, url, secret: null };
  }

  /**
   * Deactivates the caller's agent: removes its webhook at the provider (auto mode) and its
   * registration. A failure at the provider is reported, and the registration is removed
   * regardless. An agent that is not active is a ConflictError.
   */
  async deactivate(userId: string, agentId: string): Promise<Deactivation> {
    await this.#ownAgent(userId, agentId);
    const registration = await this.deps.webhooks.getByAgent(agentId);
    if (!registration) throw new ConflictError(`agent ${agentId} is not active`);
    return this.#remove(registration);
  }

  /** Deactivates the caller's agent when it is active (before it is deleted); null when it was not. */
  async deactivateIfActive(userId: string, agentId: string): Promise<Deactivation | null> {
    await this.#ownAgent(userId, agentId);
    const registration = await this.deps.webhooks.getByAgent(agentId);
    return registration ? this.#remove(registration) : null;
  }

  /** The caller's agent's registration; NotFoundError when the agent is not active. */
  async getWebhook(userId: string, agentId: string): Promise<{ registration: WebhookRegistration; url: string }> {
    await this.#ownAgent(userId, agentId);
    const registration = await this.deps.webhooks.getByAgent(agentId);
    if (!registration) throw new NotFoundError(`agent ${agentId} is not active: it has no webhook`);
    return { registration, url: this.urlOf(registration) };
  }

  /** Where the provider delivers a registration's events. */
  urlOf(registration: Pick<WebhookRegistration, 'provider' | 'id'>): string {
    return `${this.deps.publicUrl ?? ''}${webhookPath(registration.provider, registration.id)}`;
  }

  /**
   * Handles a delivery to `/webhooks/:provider/:webhookId`. The registration is looked up
   * before the body is read (`read`): an unknown id, or one of another provider, is a
   * NotFoundError; a delivery whose signature the provider's manager does not accept an
   * UnauthorizedError. Events of types the trigger does not listen to are ignored; each other
   * event is recorded by its delivery id first (a repeat is a duplicate and starts nothing)
   * and starts one execution of the agent's latest version with its payload.
   */
  async ingest(providerName: string, webhookId: string, read: () => Promise<WebhookDelivery>): Promise<IngressOutcome> {
    const { webhooks, agents, clock, logger } = this.deps;
    const registration = await webhooks.get(webhookId);
    if (!registration || registration.provider !== providerName) throw new NotFoundError(`no webhook ${webhookId} for provider ${providerName}`);
    const manager = this.deps.providers.get(providerName)?.webhooks;
    if (!manager) throw new NotFoundError(`provider ${providerName} takes no webhooks on this server`);
    const delivery = await read();
    if (!verified(manager, delivery, openWebhookSecret(this.deps.cipher, registration))) {
      logger.warn('webhook delivery refused: bad or missing signature', { webhookId, provider: providerName });
      throw new UnauthorizedError('missing or invalid webhook signature');
    }
    const handshake = manager.handshake?.(delivery);
    if (handshake) return { kind: 'handshake', status: handshake.status ?? 200, body: handshake.body };

    const events = eventsOf(manager, delivery);
    const matching = events.filter((e) => registration.events.includes(e.type));
    if (!matching.length) {
      const types = events.map((e) => e.type);
      return { kind: 'ignored', detail: `${types.length ? `event ${[...new Set(types)].join(', ')}` : 'no event'}: the trigger listens to ${registration.events.join(', ')}` };
    }
    const agent = await agents.get(registration.agentId);
    if (!agent || agent.userId !== registration.userId) throw new NotFoundError(`no webhook ${webhookId} for provider ${providerName}`);
    const version = await agents.getVersion(agent.id, agent.version);
    const node = version?.nodes.find((n): n is BlockNode => n.id === registration.triggerNodeId && n.kind === 'block' && n.blockId === registration.blockId);
    if (!node) return { kind: 'ignored', detail: `agent ${agent.id} (version ${agent.version}) no longer has trigger node "${registration.triggerNodeId}" (${registration.blockId}): activate it again` };

    const started: string[] = [];
    const duplicates: Array<string | null> = [];
    for (const event of matching) {
      const payload = event.payload;
      if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
        logger.warn('webhook event without an object payload ignored', { webhookId, provider: providerName, event: event.type });
        continue;
      }
      const deliveryId = event.deliveryId;
      if (deliveryId !== undefined && !(await webhooks.recordDelivery({ webhookId, deliveryId, eventType: event.type, receivedAt: clock.now() }))) {
        duplicates.push((await webhooks.getDelivery(webhookId, deliveryId))?.executionId ?? null);
        logger.info('webhook delivery repeated: nothing started', { webhookId, provider: providerName, event: event.type, deliveryId });
        continue;
      }
      let executionId: string;
      try {
        const execution = await this.deps.executions.executeAgent(registration.userId, agent.id, {}, { version: agent.version, trigger: { nodeId: node.id, payload: payload as Record<string, unknown> } });
        executionId = execution.id;
      } catch (e) {
        // Not started: forget the delivery, so that the provider's retry may start it.
        if (deliveryId !== undefined) await webhooks.deleteDelivery(webhookId, deliveryId);
        throw e;
      }
      if (deliveryId !== undefined) await webhooks.setDeliveryExecution(webhookId, deliveryId, executionId);
      started.push(executionId);
      logger.info('webhook delivery started an execution', { webhookId, provider: providerName, agentId: agent.id, event: event.type, deliveryId, executionId });
    }
    if (!started.length && duplicates.length) return { kind: 'duplicate', executionId: duplicates[0] ?? null };
    if (!started.length) return { kind: 'ignored', detail: 'no event with a JSON object payload' };
    return { kind: 'accepted', executionIds: started };
  }

  /** Deregisters at the provider (auto mode), then removes the registration whatever that answered. */
  async #remove(registration: WebhookRegistration): Promise<Deactivation> {
    const outcome = await this.#deregister(registration);
    await this.deps.webhooks.delete(registration.id);
    this.deps.logger.info('agent deactivated', { agentId: registration.agentId, webhookId: registration.id, provider: registration.provider, deregistered: outcome.deregistered });
    return { registration, ...outcome };
  }

  async #deregister(registration: WebhookRegistration): Promise<{ deregistered: boolean | null; detail: string | null }> {
    if (registration.mode !== 'auto' || registration.externalId === null) return { deregistered: null, detail: null };
    const manager = this.deps.providers.get(registration.provider)?.webhooks;
    if (!manager?.deregister) return { deregistered: false, detail: `provider ${registration.provider} cannot remove webhooks on this server: remove webhook ${registration.externalId} there yourself` };
    let secret = '';
    try {
      secret = openWebhookSecret(this.deps.cipher, registration);
    } catch {
      /* only used to scrub messages */
    }
    let fetch: ProviderFetch | null = null;
    try {
      const block = this.deps.registry.get(registration.blockId);
      if (!block) throw new Error(`block ${registration.blockId} is not loaded on this server`);
      fetch = await this.#fetchFor(block, registration.userId, registration.credentialId);
      await withTimeout(manager.deregister({ fetch: fetch.create(), externalId: registration.externalId, config: { ...registration.config } }), this.#timeoutMs, 'removing the webhook');
      return { deregistered: true, detail: null };
    } catch (e) {
      const detail = scrub(messageOf(e), secret);
      this.deps.logger.warn('webhook deregistration failed', { agentId: registration.agentId, webhookId: registration.id, provider: registration.provider, error: detail });
      return { deregistered: false, detail: `${registration.provider}: ${detail}` };
    } finally {
      fetch?.release();
    }
  }

  /** context.fetch of the trigger block with its credential, as a run gets it; `release` aborts what is left. */
  async #fetchFor(block: RegisteredBlock, userId: string, credentialId: string | null): Promise<ProviderFetch> {
    const parts = await this.deps.runContexts.forRun(block, userId, credentialId ?? undefined);
    const createFetch = parts.createFetch;
    if (!createFetch) throw new UnexpectedError('this server has no outbound HTTP: it cannot reach providers');
    const controller = new AbortController();
    return { create: () => createFetch(controller.signal), release: () => controller.abort() };
  }

  /** The agent's latest version and its one trigger node; ValidationError naming why not. */
  async #triggerOf(userId: string, agentId: string): Promise<{ version: AgentVersion; node: BlockNode; block: RegisteredBlock }> {
    const current = await this.#ownAgent(userId, agentId);
    const version = await this.deps.agents.getVersion(agentId, current.version);
    if (!version) throw new NotFoundError(`agent ${agentId} has no version ${current.version}`);
    const triggers: Array<{ node: BlockNode; block: RegisteredBlock }> = [];
    for (const node of version.nodes) {
      if (node.kind !== 'block') continue;
      const block = this.deps.registry.get(node.blockId);
      if (block?.definition.kind === 'trigger') triggers.push({ node, block });
    }
    if (triggers.length === 0) throw new ValidationError(`agent ${agentId} has no trigger node: add a trigger block (e.g. github.issue_event) to activate it`);
    if (triggers.length > 1) {
      throw new ValidationError(`agent ${agentId} has ${triggers.length} trigger nodes (${triggers.map((t) => `"${t.node.id}"`).join(', ')}): an agent is activated through exactly one`);
    }
    return { version, ...triggers[0]! };
  }

  async #ownAgent(userId: string, agentId: string) {
    const agent = await this.deps.agents.get(agentId);
    if (!agent || agent.userId !== userId) throw new NotFoundError(`agent ${agentId} not found`);
    return agent;
  }

  #providerName(block: RegisteredBlock): string {
    return block.definition.credentials?.provider ?? block.definition.id.split('.')[0]!;
  }

  #providerOf(block: RegisteredBlock): RegisteredProvider | undefined {
    return this.deps.providers.get(this.#providerName(block));
  }
}

/** A manager's verdict; a manager that throws has not verified anything. */
function verified(manager: WebhookManager, delivery: WebhookDelivery, secret: string): boolean {
  try {
    return manager.verify(delivery, secret) === true;
  } catch {
    return false;
  }
}

function eventsOf(manager: WebhookManager, delivery: WebhookDelivery): WebhookEvent[] {
  try {
    const events = manager.events(delivery);
    return Array.isArray(events) ? events.filter((e) => e && typeof e.type === 'string') : [];
  } catch {
    return [];
  }
}

function messageOf(e: unknown): string {
  if (DomainError.is(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** A message from provider code, with the webhook's secret (should it appear) blanked out. */
function scrub(message: string, secret: string): string {
  return secret ? message.split(secret).join('[secret]') : message;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
