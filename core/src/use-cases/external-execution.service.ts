import { createHash } from 'node:crypto';
import type { CredentialRequirement } from '@blockyard/contracts';
import type { AgentRepository } from '../agent/agent.repository.port.js';
import type { Agent, AgentNode } from '../agent/agent.js';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { ConflictError, NotFoundError, PermissionError, UnauthorizedError, ValidationError } from '../errors/domain.errors.js';
import type { Execution } from '../execution/execution.js';
import type { ExecutionWebhookTargets } from '../grant/execution-webhook-targets.port.js';
import type { ExternalExecution, ExternalExecutionRepository } from '../grant/external-execution.repository.port.js';
import { grantCovers, type Grant } from '../grant/grant.js';
import { checkWebhookUrl } from '../grant/webhook-url.js';
import { splitCredentialInput } from '../credential/credential-input.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { Logger } from '../system/logger.port.js';
import type { ExecutionService } from './execution.service.js';
import type { AppActor, GrantService } from './grant.service.js';

/** What an app sends to execute an agent (the external API's body and Idempotency-Key header). */
export interface ExternalExecuteInput {
  inputs: Record<string, unknown>;
  /** Only these grants may be used (each must be a live grant of the app); absent or null: any of its live grants. */
  grantIds?: readonly string[] | null;
  /** Where to send the execution's webhooks; checked against the app's webhook domains. */
  webhookUrl?: string | null;
  idempotencyKey?: string | null;
}

/** An accepted execute: the execution, and whether it is the one a repeated Idempotency-Key first started. */
export interface ExternalExecuteResult {
  execution: Execution;
  replayed: boolean;
  /** The grants the execution uses. */
  grants: readonly Grant[];
}

export interface ExternalExecutionServiceDeps {
  grants: GrantService;
  records: ExternalExecutionRepository;
  clients: OAuthClientRepository;
  /** Null when this composition has no agent storage (every execute is then a 404). */
  agents: AgentRepository | null;
  registry: BlockRegistry;
  executions: ExecutionService;
  webhookTargets: ExecutionWebhookTargets;
  /** The providers with a system credential (nodes naming no credential use it, and need no grant). */
  systemProviders: () => readonly string[];
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}

/** The longest Idempotency-Key accepted. */
export const IDEMPOTENCY_KEY_MAX = 255;
/** A key whose execution was not created within this long (its request died) may be taken over. */
const STALE_CLAIM_MS = 30_000;

/**
 * Agent executions for apps (the external API): an execution may use a user's credential only
 * through a live grant of the app whose scopes cover what the node's block requires; it is
 * recorded as the app's, so that the app finds it (and nobody else's); a repeated
 * Idempotency-Key answers the execution the key first started.
 */
export class ExternalExecutionService {
  constructor(private readonly deps: ExternalExecutionServiceDeps) {}

  async executeAgent(actor: AppActor, agentId: string, input: ExternalExecuteInput): Promise<ExternalExecuteResult> {
    const { records, clock, ids } = this.deps;
    const key = checkIdempotencyKey(input.idempotencyKey);
    const client = await this.deps.clients.get(actor.clientId);
    if (!client || client.disabledAt) throw new UnauthorizedError('this app is disabled or was deleted');
    const webhookUrl = input.webhookUrl === undefined || input.webhookUrl === null ? null : checkWebhookUrl(input.webhookUrl, client.webhookDomains);
    const requestHash = key ? sha256(canonicalJson({ agentId, inputs: input.inputs, grantIds: input.grantIds ?? null, webhookUrl })) : null;

    let record: ExternalExecution = { executionId: ids.next(), clientId: actor.clientId, userId: actor.userId, idempotencyKey: key, requestHash, createdAt: clock.now() };
    // With a key, the key is claimed first: a repeat finds it, concurrent repeats meet at its uniqueness.
    for (let attempt = 0; key; attempt++) {
      const existing = await records.create(record);
      if (!existing) break;
      if (existing.requestHash !== requestHash) {
        throw new ValidationError('this Idempotency-Key was used for a different request; use a new key for a new request', [{ path: '/headers/idempotency-key', message: 'was used for a different request' }]);
      }
      const first = await this.#executionOf(existing);
      if (first) return { execution: first, replayed: true, grants: [] };
      const age = clock.now().getTime() - existing.createdAt.getTime();
      if (age < STALE_CLAIM_MS || attempt > 0) throw new ConflictError('a request with this Idempotency-Key is still being processed; retry in a moment');
      record = { ...record, createdAt: clock.now() };
      if (await records.replace(existing.executionId, record)) break;
    }

    let recorded = key !== null;
    try {
      const { grants, agent } = await this.#validate(actor, agentId, input.grantIds ?? null);
      // Without a key, the record and the webhook target are written beside the execution's first commit.
      const alongside = async () => {
        await Promise.all([
          recorded ? null : records.create(record).then((existing) => {
            recorded = true;
            if (existing) throw new ConflictError('this execution id is taken; retry');
          }),
          webhookUrl ? this.deps.webhookTargets.set({ executionId: record.executionId, clientId: actor.clientId, webhookUrl }) : null,
        ]);
      };
      const execution = await this.deps.executions.executeAgent(actor.userId, agentId, input.inputs, {
        version: agent.version,
        agent,
        executionId: record.executionId,
        grantIds: grants.map((g) => g.id),
        alongside,
      });
      if (grants.length) await this.deps.grants.markUsed(grants).catch((e: unknown) => this.deps.logger.warn('could not record grant use', { error: e instanceof Error ? e.message : String(e) }));
      return { execution, replayed: false, grants };
    } catch (e) {
      // Nothing was started: the key is free again.
      if (recorded) await records.delete(record.executionId).catch(() => false);
      throw e;
    }
  }

  /**
   * An app's block execution through `/api/v1` (`POST /api/v1/blocks/:id/execute` with its
   * access token): a block that takes a credential named in `inputs.credentials` runs only
   * through a live grant of the app on that credential covering the block's scopes
   * (PermissionError "Grant validation failed: ..." otherwise); one naming none uses the
   * provider's system credential (or is refused as for the user) and needs no grant. The
   * execution carries the grant (the runner checks it again before it resolves the credential)
   * and is recorded as the app's.
   */
  async executeBlock(actor: AppActor, blockId: string, inputs: Record<string, unknown>, options: { waitMs?: number } = {}): Promise<Execution> {
    await this.#activeClient(actor);
    const requirement = this.deps.registry.get(blockId)?.definition.credentials;
    const grants: Grant[] = [];
    if (requirement) {
      const { credentialId } = splitCredentialInput(inputs);
      if (credentialId) grants.push(coveringGrant(await this.deps.grants.liveGrantsFor(actor), credentialId, requirement, `block ${blockId}`, ''));
    }
    return this.#recorded(actor, grants, (executionId, alongside) =>
      this.deps.executions.executeBlock(actor.userId, blockId, inputs, { waitMs: options.waitMs, executionId, grantIds: grants.map((g) => g.id), alongside }),
    );
  }

  /**
   * An app's agent execution through `/api/v1` (`POST /api/v1/agents/:id/execute` with its
   * access token): the external API's grant validation (of the version asked for, default the
   * latest) and record, without Idempotency-Key or webhook; with `waitMs`, answers the
   * execution as it is once finished or after that long.
   */
  async executeAgentWaiting(actor: AppActor, agentId: string, inputs: Record<string, unknown>, options: { version?: number; waitMs?: number } = {}): Promise<Execution> {
    await this.#activeClient(actor);
    const { grants, agent, version } = await this.#validate(actor, agentId, null, options.version);
    return this.#recorded(actor, grants, (executionId, alongside) =>
      this.deps.executions.executeAgent(actor.userId, agentId, inputs, { version, agent, executionId, grantIds: grants.map((g) => g.id), alongside, waitMs: options.waitMs }),
    );
  }

  async #activeClient(actor: AppActor): Promise<void> {
    const client = await this.deps.clients.get(actor.clientId);
    if (!client || client.disabledAt) throw new UnauthorizedError('this app is disabled or was deleted');
  }

  /**
   * Starts an execution recorded as the app's (the record written beside it, removed again
   * when nothing was started), and marks the grants it uses as used.
   */
  async #recorded(actor: AppActor, grants: readonly Grant[], start: (executionId: string, alongside: () => Promise<void>) => Promise<Execution>): Promise<Execution> {
    const { records, clock, ids } = this.deps;
    const record: ExternalExecution = { executionId: ids.next(), clientId: actor.clientId, userId: actor.userId, idempotencyKey: null, requestHash: null, createdAt: clock.now() };
    let recorded = false;
    try {
      const execution = await start(record.executionId, async () => {
        const existing = await records.create(record);
        recorded = true;
        if (existing) throw new ConflictError('this execution id is taken; retry');
      });
      if (grants.length) await this.deps.grants.markUsed(grants).catch((e: unknown) => this.deps.logger.warn('could not record grant use', { error: e instanceof Error ? e.message : String(e) }));
      return execution;
    } catch (e) {
      if (recorded) await records.delete(record.executionId).catch(() => false);
      throw e;
    }
  }

  /** One of the app's executions for this user; NotFoundError for any other (the user's own, another app's). */
  async getExecution(actor: AppActor, executionId: string): Promise<Execution> {
    const record = await this.deps.records.get(executionId);
    if (!record || record.clientId !== actor.clientId || record.userId !== actor.userId) throw new NotFoundError(`execution ${executionId} not found`);
    return this.deps.executions.getExecution(actor.userId, executionId);
  }

  /** Cancels one of the app's executions; a finished one is a ConflictError. */
  async cancelExecution(actor: AppActor, executionId: string): Promise<Execution> {
    await this.getExecution(actor, executionId);
    return this.deps.executions.cancelExecution(actor.userId, executionId);
  }

  async #executionOf(record: ExternalExecution): Promise<Execution | null> {
    try {
      return await this.deps.executions.getExecution(record.userId, record.executionId);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /**
   * The agent, the version to run (`requestedVersion`, default its latest) and the grants its
   * version's credential-using nodes go through: every
   * node naming a credential needs a live grant of the app on that credential (among
   * `grantIds` when given) covering its block's scopes; a node naming none needs its provider's
   * system credential. PermissionError "Grant validation failed: ..." otherwise.
   */
  async #validate(actor: AppActor, agentId: string, grantIds: readonly string[] | null, requestedVersion?: number): Promise<{ grants: Grant[]; agent: Agent; version: number }> {
    const { agents } = this.deps;
    if (!agents) throw new NotFoundError('agents are not available: this server has no agent storage');
    const agent = await agents.get(agentId);
    if (!agent || agent.userId !== actor.userId) throw new NotFoundError(`agent ${agentId} not found`);
    const version = requestedVersion ?? agent.version;
    if (!Number.isInteger(version) || version < 1 || version > agent.version) throw new NotFoundError(`agent ${agentId} has no version ${version}`);
    const graph = await this.deps.executions.agentGraph(agentId, version);
    return { grants: await this.#grantsFor(actor, graph.nodes, grantIds), agent, version };
  }

  /**
   * Checks, before an app saves an agent for its user, that each node naming a credential names
   * one the app holds a live grant on covering the node's block: an app builds agents only with
   * the integrations the user granted it. PermissionError "Grant validation failed: ..." otherwise.
   */
  async checkAgentNodes(actor: AppActor, nodes: readonly AgentNode[]): Promise<void> {
    await this.#activeClient(actor);
    await this.#grantsFor(actor, nodes, null, { allowUnnamed: true });
  }

  /**
   * The grants the nodes' credentials go through (among `grantIds` when given). A node naming
   * no credential needs its provider's system credential, unless `allowUnnamed` (an agent being
   * saved: an unnamed credential is refused when it runs).
   */
  async #grantsFor(actor: AppActor, nodes: readonly AgentNode[], grantIds: readonly string[] | null, options: { allowUnnamed?: boolean } = {}): Promise<Grant[]> {
    const { registry } = this.deps;
    const graph = { nodes };
    const fail = (reason: string): never => {
      throw new PermissionError(`Grant validation failed: ${reason}`);
    };
    // An agent none of whose nodes needs a grant needs no read of them, unless grant_ids must be checked.
    const needsGrants = graph.nodes.some((node) => node.kind === 'block' && node.credentials.credentials && registry.get(node.blockId)?.definition.credentials);
    const live = needsGrants || grantIds ? await this.deps.grants.liveGrantsFor(actor) : [];
    const allowed = grantIds ? new Set(grantIds) : null;
    if (allowed) {
      const liveIds = new Set(live.map((g) => g.id));
      for (const id of allowed) if (!liveIds.has(id)) fail(`grant ${String(id).slice(0, 100)} is not a live grant of this app for this user`);
    }
    const usable = allowed ? live.filter((g) => allowed.has(g.id)) : live;
    const used = new Map<string, Grant>();
    for (const node of graph.nodes) {
      if (node.kind !== 'block') continue;
      const requirement = registry.get(node.blockId)?.definition.credentials;
      if (!requirement) continue;
      const credentialId = node.credentials.credentials;
      if (!credentialId) {
        if (options.allowUnnamed || this.deps.systemProviders().includes(requirement.provider)) continue;
        fail(`node "${node.id}" needs a ${requirement.provider} credential and names none`);
      }
      const covering = coveringGrant(usable, credentialId!, requirement, `node "${node.id}"`, allowed ? ' among grant_ids' : '');
      used.set(covering.id, covering);
    }
    return [...used.values()];
  }
}

/**
 * The grant among `usable` through which `subject` (a node, a block) may use `credentialId`: one
 * on that credential whose scopes cover the requirement's. PermissionError "Grant validation
 * failed: ..." naming what is missing otherwise.
 */
function coveringGrant(usable: readonly Grant[], credentialId: string, requirement: CredentialRequirement, subject: string, among: string): Grant {
  const onCredential = usable.filter((g) => g.credentialId === credentialId);
  if (!onCredential.length) {
    throw new PermissionError(`Grant validation failed: No valid grants found for requested integrations: ${subject} uses a ${requirement.provider} credential this app holds no live grant for${among}`);
  }
  const scopes = requirement.scopes ?? [];
  const covering = onCredential.find((g) => grantCovers(g, scopes));
  if (covering) return covering;
  const held = [...new Set(onCredential.flatMap((g) => g.scopes))];
  throw new PermissionError(
    `Grant validation failed: ${subject} needs ${requirement.provider} scope(s) ${scopes.filter((s) => !held.includes(s)).join(', ')} that no grant of this app covers (granted: ${held.join(', ') || 'none'})`,
  );
}

/** An Idempotency-Key header: 1 to 255 visible ASCII characters; absent or empty: none. */
function checkIdempotencyKey(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (value.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ValidationError(`Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} visible ASCII characters`, [{ path: '/headers/idempotency-key', message: 'is invalid' }]);
  }
  return value;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** JSON with object keys sorted, so that the same request hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
