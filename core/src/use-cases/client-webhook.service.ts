import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors/domain.errors.js';
import type { Execution } from '../execution/execution.js';
import { isFinished } from '../execution/execution.js';
import type { ExecutionLifecycleListener } from '../execution/execution-lifecycle.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import type { ExecutionWebhookTarget, ExecutionWebhookTargets } from '../grant/execution-webhook-targets.port.js';
import type { GrantEvents } from '../grant/grant-events.port.js';
import type { Grant } from '../grant/grant.js';
import type { OAuthClient } from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import type { Logger } from '../system/logger.port.js';
import {
  CLIENT_WEBHOOK_DELIVERY_STATUSES,
  clientWebhookDeliveryId,
  DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS,
  type ClaimedClientWebhookDelivery,
  type ClientWebhookAttemptResult,
  type ClientWebhookDelivery,
  type ClientWebhookDeliveryStatus,
  type ClientWebhookTarget,
  type ClientWebhookTargetStage,
} from '../client-webhook/client-webhook-delivery.js';
import { executionFinishedEvent, executionStartedEvent, grantRevokedEvent, serializeClientWebhookEvent, type ClientWebhookEventBody } from '../client-webhook/client-webhook-event.js';
import type { ClientWebhookRepository } from '../client-webhook/client-webhook.repository.port.js';
import { clientWebhookUrlProblem } from '../client-webhook/client-webhook-url.js';
import { TimedBatch } from '../client-webhook/timed-batch.js';

/** The most endpoints of one client a grant.revoked goes to (its most recently used ones). */
export const GRANT_REVOKED_MAX_ENDPOINTS = 10;
/** How long a target may lag behind its execution before reconciliation enqueues its events. */
const RECONCILE_GRACE_MS = 5_000;
/** A target whose execution is still unknown after this long is given up (its execute failed after recording it). */
const ORPHAN_TARGET_MS = 3_600_000;
const RECONCILE_PAGE = 200;
/** An endpoint's last use is written again only when the stored one is older than this. */
const ENDPOINT_USE_RESOLUTION_MS = 60_000;

export interface ClientWebhookServiceDeps {
  deliveries: ClientWebhookRepository;
  clients: OAuthClientRepository;
  executions: ExecutionRepository;
  clock: Clock;
  logger: Logger;
  /** Attempts a delivery gets before it is given up (the dispatcher's retry schedule + 1), for listings. Default 7. */
  maxAttempts?: number;
}

/** A page of a client's deliveries, as its owner lists them. */
export interface ClientWebhookDeliveryPage {
  deliveries: ClientWebhookDelivery[];
  /** Pass as `before` for the next page; null on the last one. */
  nextBefore: string | null;
}

/**
 * Outbound webhooks of OAuth clients, the enqueueing side: executions started through the
 * external API with a `webhook_url` (their target) get execution.started when they start and
 * execution.completed or execution.failed when they end; revoked grants get grant.revoked at
 * their client's endpoints. Each event becomes a delivery in the outbox (storage), which the
 * {@link ClientWebhookDispatcher} sends (the one of this process first, see `attachSender`); an
 * event is enqueued at most once per endpoint (its delivery id is derived from it), so the
 * lifecycle listener and the reconciliation can both enqueue it safely, and one process never
 * sends it twice at once.
 *
 * It is the ExecutionLifecycleListener, the ExecutionWebhookTargets and the GrantEvents of a
 * composition that has outbound webhooks.
 */
export class ClientWebhookService implements ExecutionLifecycleListener, ExecutionWebhookTargets, GrantEvents {
  #sender: LocalWebhookSender | null = null;
  /** Deliveries this process is sending before storing them, by id (so that none is sent twice at once from here). */
  readonly #sendingIds = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  /** execution.started rows sent and waiting to be stored with their execution's end, by execution. */
  readonly #startedRows = new Map<string, StartedRow>();
  /** Executions whose execution.started this process enqueued, until their end is enqueued. */
  readonly #startedHere = new Set<string>();
  /**
   * Executions whose end this process sent and stored, their targets not yet moved to
   * `finished` (waiting in #finishBatch, or in a batch being written): their events are out.
   */
  readonly #finishing = new Set<string>();
  /** Of #finishing, those waiting for the next batch (see #finishLater). */
  readonly #finishBatch = new TimedBatch<string>({ delayMs: FINISH_BATCH_MS, max: FINISH_BATCH_MAX, write: (executionIds) => this.#finish(executionIds) });
  /** Delivery rows sent and waiting to be stored with others' (see #storeLater), with who waits for them. */
  readonly #storeBatch = new TimedBatch<RowsToStore>({ delayMs: STORE_BATCH_MS, max: STORE_BATCH_MAX, sizeOf: (entry) => entry.rows.length, write: (entries) => this.#store(entries) });

  constructor(private readonly deps: ClientWebhookServiceDeps) {}

  /** Attempts a delivery gets before it is given up. */
  get maxAttempts(): number {
    return this.deps.maxAttempts ?? DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS.length + 1;
  }

  /**
   * The dispatcher of this process (null: none, or stopping). Execution events enqueued here
   * are then sent by it at once and stored with the attempt's result; grant.revoked is stored
   * already claimed for it and handed over. Without one, deliveries wait in the outbox for a
   * dispatcher's next run (`--role api` processes).
   */
  attachSender(sender: LocalWebhookSender | null): void {
    this.#sender = sender;
  }

  /**
   * Records where an execution's events go, before the execution is queued. The URL is checked
   * against the client again (ValidationError when it may not receive webhooks); naming it
   * enables the endpoint again if a 410 had disabled it.
   */
  async set(target: ExecutionWebhookTarget): Promise<void> {
    const client = await this.deps.clients.get(target.clientId);
    if (!client) throw new NotFoundError(`OAuth client ${target.clientId} not found`);
    const problem = clientWebhookUrlProblem(target.webhookUrl, client.webhookDomains);
    if (problem) throw new ValidationError(`webhook_url ${problem}`, [{ path: '/webhook_url', message: problem }]);
    const now = this.deps.clock.now();
    const endpoint = await this.deps.deliveries.getEndpoint(client.id, target.webhookUrl);
    // Its last use is kept to the minute (it picks where grant.revoked goes): most executes write nothing for it.
    const use = !endpoint || endpoint.disabledAt !== null || now.getTime() - endpoint.lastUsedAt.getTime() >= ENDPOINT_USE_RESOLUTION_MS;
    await Promise.all([
      this.deps.deliveries.recordTarget({ executionId: target.executionId, clientId: client.id, url: target.webhookUrl, stage: 'none', createdAt: now }),
      use ? this.deps.deliveries.useEndpoint(client.id, target.webhookUrl, now) : null,
    ]);
  }

  async get(executionId: string): Promise<ExecutionWebhookTarget | null> {
    const target = await this.deps.deliveries.getTarget(executionId);
    return target ? { executionId: target.executionId, clientId: target.clientId, webhookUrl: target.url } : null;
  }

  /** ExecutionLifecycleListener: enqueues execution.started when the execution has a target. */
  async started(execution: Execution): Promise<void> {
    const target = await this.deps.deliveries.getTarget(execution.id);
    if (!target || target.stage !== 'none') return;
    // The target's stage stays `none`: the delivery row says the event is out (see #startedEnqueued).
    remember(this.#startedHere, execution.id);
    await this.enqueueForTarget(target, executionStartedEvent(execution, this.deps.clock.now()), `execution.started:${execution.id}`, null);
  }

  /**
   * ExecutionLifecycleListener: enqueues execution.completed or execution.failed when the
   * execution has a target (and execution.started first, if it ran and that was missed).
   */
  async finished(execution: Execution): Promise<void> {
    // Sent and stored here, its target about to be moved: nothing is left to send.
    if (this.#finishing.has(execution.id)) return;
    const target = await this.deps.deliveries.getTarget(execution.id);
    if (!target || target.stage === 'finished') return;
    if (target.stage === 'none' && execution.startedAt && !(await this.#startedEnqueued(target))) {
      await this.enqueueForTarget(target, executionStartedEvent(execution, this.deps.clock.now()), `execution.started:${execution.id}`, null);
    }
    await this.enqueueFinished(target, execution);
    this.#startedHere.delete(execution.id);
  }

  /** Whether the execution's execution.started is out: told here, or its delivery row is stored. */
  async #startedEnqueued(target: ClientWebhookTarget): Promise<boolean> {
    if (this.#startedHere.has(target.executionId)) return true;
    return (await this.deps.deliveries.get(clientWebhookDeliveryId(target.clientId, target.url, `execution.started:${target.executionId}`))) !== null;
  }

  /** Whether the execution's end (execution.completed or execution.failed) has its delivery row stored. */
  async #finishedStored(target: ClientWebhookTarget): Promise<boolean> {
    return (await this.deps.deliveries.get(clientWebhookDeliveryId(target.clientId, target.url, `execution.finished:${target.executionId}`))) !== null;
  }

  /** GrantEvents: enqueues grant.revoked to each of the client's endpoints that is not disabled. */
  async revoked(grant: Grant): Promise<void> {
    const client = await this.deps.clients.get(grant.clientId);
    if (!client) return;
    const body = grantRevokedEvent({ grantId: grant.id, clientId: grant.clientId, provider: grant.provider, credentialId: grant.credentialId, revokedAt: grant.revokedAt ?? this.deps.clock.now() });
    const endpoints = await this.deps.deliveries.listEndpoints(client.id, GRANT_REVOKED_MAX_ENDPOINTS);
    for (const endpoint of endpoints) {
      if (endpoint.disabledAt) continue;
      await this.enqueue(client, endpoint.url, body, `grant.revoked:${grant.id}`);
    }
  }

  /**
   * Enqueues what the lifecycle listener missed (a crash between an execution's status write
   * and the enqueue, or a start before the target was stored): for every target not finished
   * that is older than a few seconds, the events its execution's stored status calls for.
   * Answers how many events it enqueued.
   */
  async reconcile(): Promise<number> {
    const now = this.deps.clock.now();
    const createdBefore = new Date(now.getTime() - RECONCILE_GRACE_MS);
    let after: string | null = null;
    let enqueued = 0;
    for (;;) {
      const targets = await this.deps.deliveries.listUnfinishedTargets(createdBefore, after, RECONCILE_PAGE);
      for (const target of targets) {
        if (this.#finishing.has(target.executionId)) continue; // its target is being moved (see #finishLater)
        const execution = await this.deps.executions.get(target.executionId);
        if (!execution) {
          if (now.getTime() - target.createdAt.getTime() > ORPHAN_TARGET_MS) await this.deps.deliveries.advanceTarget(target.executionId, 'finished');
          continue;
        }
        if (execution.status === 'queued') continue;
        if (target.stage === 'none' && execution.startedAt) {
          if (await this.#startedEnqueued(target)) await this.deps.deliveries.advanceTarget(execution.id, 'started');
          else if (await this.enqueueForTarget(target, executionStartedEvent(execution, now), `execution.started:${execution.id}`, 'started')) enqueued++;
        }
        if (!isFinished(execution.status)) continue;
        // Stored already (its target's move was lost): moved now, not sent again.
        if (await this.#finishedStored(target)) await this.deps.deliveries.advanceTarget(execution.id, 'finished');
        else if (await this.enqueueFinished(target, execution)) enqueued++;
      }
      if (targets.length < RECONCILE_PAGE) break;
      after = targets[targets.length - 1]!.executionId;
    }
    if (enqueued) this.deps.logger.info('outbound webhooks: reconciliation enqueued missed execution events', { count: enqueued });
    return enqueued;
  }

  /**
   * The deliveries of one of the user's clients, newest first. Another user's client is "not
   * found", as everywhere in client management.
   */
  async listDeliveries(userId: string, clientId: string, query: { status?: string; limit?: number; before?: string | null } = {}): Promise<ClientWebhookDeliveryPage> {
    const client = await this.deps.clients.get(clientId);
    if (!client || client.userId !== userId) throw new NotFoundError(`OAuth client ${clientId} not found`);
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit must be a whole number from 1 to 100', [{ path: '/limit', message: 'must be from 1 to 100' }]);
    if (query.status !== undefined && !(CLIENT_WEBHOOK_DELIVERY_STATUSES as readonly string[]).includes(query.status)) {
      throw new ValidationError(`status must be one of ${CLIENT_WEBHOOK_DELIVERY_STATUSES.join(', ')}`, [{ path: '/status', message: `must be one of ${CLIENT_WEBHOOK_DELIVERY_STATUSES.join(', ')}` }]);
    }
    let before: { createdAt: Date; id: string } | null = null;
    if (query.before) {
      const cursor = await this.deps.deliveries.get(query.before);
      if (!cursor || cursor.clientId !== clientId) throw new ValidationError('before must be the id of one of this client\'s deliveries', [{ path: '/before', message: 'unknown delivery' }]);
      before = { createdAt: cursor.createdAt, id: cursor.id };
    }
    const deliveries = await this.deps.deliveries.listByClient(clientId, { limit: limit + 1, status: query.status as ClientWebhookDeliveryStatus | undefined, before });
    const page = deliveries.slice(0, limit);
    return { deliveries: page, nextBefore: deliveries.length > limit ? page[page.length - 1]!.id : null };
  }

  /** OAuthClientDeletionHook: a deleted client's outbox goes with it. */
  async oauthClientDeleted(client: OAuthClient): Promise<void> {
    await this.deps.deliveries.deleteByClient(client.id);
  }

  private enqueueFinished(target: { executionId: string; clientId: string; url: string }, execution: Execution): Promise<boolean> {
    return this.enqueueForTarget(target, executionFinishedEvent(execution, this.deps.clock.now()), `execution.finished:${execution.id}`, 'finished');
  }

  /**
   * Enqueues an execution event for its target, and moves the target to `stage` (if any) beside
   * it (one commit under group commit).
   *
   * With a dispatcher in this process, a pending event is sent first and stored with the
   * attempt's result (delivered, or pending its retry): one write for the row instead of two,
   * and the receiver hears of it without waiting for storage. An execution's end is stored with
   * its waiting execution.started row, in one insert with other executions' ending within a few
   * milliseconds (see #storeLater), and its target moved to `finished` with others' a moment
   * later (see #finishLater); a target moved to `started` goes
   * in the same commit as the row. Until the row is stored the target's stage holds the event:
   * should this process die in between, the reconciliation enqueues it again (so it can arrive
   * twice, with one webhook-id); of an end stored whose target's move was lost it only moves the
   * target. Answers whether it enqueued the event (false: enqueued before, or being sent by this
   * process now).
   */
  private async enqueueForTarget(target: { executionId: string; clientId: string; url: string }, body: ClientWebhookEventBody, eventKey: string, stage: ClientWebhookTargetStage | null): Promise<boolean> {
    const { deliveries } = this.deps;
    const advance = () => (stage ? deliveries.advanceTarget(target.executionId, stage) : null);
    const client = await this.deps.clients.get(target.clientId);
    if (!client) {
      await advance();
      return false;
    }
    const delivery = await this.#delivery(client, target.url, body, eventKey);
    const sender = delivery.status === 'pending' ? this.#sender : null;
    if (!sender) {
      const [stored] = await Promise.all([deliveries.enqueue(delivery), advance()]);
      return stored;
    }
    if (this.#sendingIds.has(delivery.id)) return false;
    this.#sendingIds.add(delivery.id);
    const sent = sender.deliver(delivery, client).then((result): ClientWebhookDelivery => ({ ...delivery, ...result }));
    if (stage === null) {
      // execution.started as the lifecycle tells it: its row waits for the execution's end (one
      // commit with execution.completed's row and the target's move for a short execution), or
      // STARTED_ROW_DELAY_MS, whichever comes first. Until then the delivery row's absence, not
      // the target, says the event may be missing: another process, or the reconciliation
      // after a crash, sends it again (one webhook-id).
      const timer = setTimeout(() => this.#storeStartedRow(target.executionId), STARTED_ROW_DELAY_MS);
      timer.unref?.();
      this.#startedRows.set(target.executionId, { id: delivery.id, row: sent, timer });
      return true;
    }
    this.#track(
      (async () => {
        let started: StartedRow | null = null;
        try {
          const row = await sent;
          started = this.#takeStartedRow(target.executionId);
          const rows = started ? [await started.row, row] : [row];
          if (stage === 'finished') {
            // Moved only once its rows are stored: a failed write leaves the target for the reconciliation.
            await this.#storeLater(rows);
            this.#finishLater(target.executionId);
          } else {
            await Promise.all([deliveries.enqueueMany(rows), advance()]);
          }
        } catch (e) {
          this.deps.logger.warn('outbound webhook sent but not recorded; the reconciliation enqueues it again', {
            deliveryId: delivery.id,
            ...(started ? { startedDeliveryId: started.id } : {}),
            error: e instanceof Error ? e.message : String(e),
          });
        } finally {
          this.#sendingIds.delete(delivery.id);
          if (started) this.#sendingIds.delete(started.id);
        }
      })(),
    );
    return true;
  }

  /**
   * Stores an execution's delivery rows (sent already) with those of the executions ending
   * within STORE_BATCH_MS (or STORE_BATCH_MAX rows): one insert for them all instead of one per
   * execution. Resolves once they are stored; rejects, for every execution of the batch, when
   * the insert fails (their targets then stay for the reconciliation).
   */
  #storeLater(rows: readonly ClientWebhookDelivery[]): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#storeBatch.add({ rows, resolve, reject }));
  }

  #store(entries: RowsToStore[]): void {
    this.deps.deliveries.enqueueMany(entries.flatMap((entry) => entry.rows)).then(
      () => {
        for (const entry of entries) entry.resolve();
      },
      (error: unknown) => {
        for (const entry of entries) entry.reject(error);
      },
    );
  }

  /**
   * Moves the execution's target to `finished` with others: one statement for the executions
   * ending within FINISH_BATCH_MS (or FINISH_BATCH_MAX of them), instead of one each. Until then
   * this process knows the events are out (#finishing) and sends nothing more for it.
   */
  #finishLater(executionId: string): void {
    this.#finishing.add(executionId);
    this.#finishBatch.add(executionId);
  }

  #finish(executionIds: string[]): void {
    this.#track(
      (async () => {
        try {
          await this.deps.deliveries.advanceTargets(executionIds, 'finished');
        } catch (e) {
          // Their events are stored; the targets stay unfinished, so the reconciliation takes
          // them up after its grace period (it finds the rows and enqueues nothing twice).
          this.deps.logger.warn('outbound webhooks: targets not marked finished; the reconciliation finishes them later', { count: executionIds.length, error: e instanceof Error ? e.message : String(e) });
        } finally {
          for (const executionId of executionIds) this.#finishing.delete(executionId);
        }
      })(),
    );
  }

  /** The execution.started row waiting for its execution's end, taken out (its timer stopped). */
  #takeStartedRow(executionId: string): StartedRow | null {
    const pending = this.#startedRows.get(executionId);
    if (!pending) return null;
    this.#startedRows.delete(executionId);
    clearTimeout(pending.timer);
    return pending;
  }

  /** Stores an execution.started row now (its execution is still running, or this process is stopping). */
  #storeStartedRow(executionId: string): void {
    const pending = this.#takeStartedRow(executionId);
    if (pending) this.#track(this.#writeStartedRow(pending));
  }

  async #writeStartedRow(pending: StartedRow): Promise<void> {
    try {
      await this.deps.deliveries.enqueue(await pending.row);
    } catch (e) {
      this.deps.logger.warn('outbound webhook sent but not recorded; the reconciliation enqueues it again', { deliveryId: pending.id, error: e instanceof Error ? e.message : String(e) });
    } finally {
      this.#sendingIds.delete(pending.id);
    }
  }

  /** Resolves once the events this process is sending (sent first, then stored) are stored, and their targets moved. */
  async drain(): Promise<void> {
    for (const executionId of [...this.#startedRows.keys()]) this.#storeStartedRow(executionId);
    for (;;) {
      this.#storeBatch.flush();
      this.#finishBatch.flush();
      if (this.#inFlight.size === 0) return;
      await Promise.all([...this.#inFlight]);
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /**
   * Stores the event's delivery to `url` (once per event and endpoint), handed to this
   * process's dispatcher when there is one (stored claimed for it, and sent while the row
   * commits), else left for a dispatcher's next run.
   */
  private async enqueue(client: OAuthClient, url: string, body: ClientWebhookEventBody, eventKey: string): Promise<boolean> {
    const delivery = await this.#delivery(client, url, body, eventKey);
    const sender = delivery.status === 'pending' ? this.#sender : null;
    if (!sender) return this.deps.deliveries.enqueue(delivery);
    // Should the row not be stored after all (another process stored it first, or storage
    // failed), the attempt is not recorded here: whoever holds the row sends it, so at worst the
    // event arrives twice with one webhook-id, which Standard Webhooks receivers deduplicate.
    const claim = { leaseToken: randomUUID(), leaseUntil: new Date(delivery.createdAt.getTime() + sender.leaseMs) };
    const stored = this.deps.deliveries.enqueue(delivery, claim);
    sender.send({ delivery, ...claim }, client, stored);
    return stored;
  }

  /**
   * The event's delivery to `url`. One to a disabled endpoint, or to a URL the client may no
   * longer receive webhooks at, is settled at once (disabled, failed; never sent), so that its
   * owner sees why nothing was sent.
   */
  async #delivery(client: OAuthClient, url: string, body: ClientWebhookEventBody, eventKey: string): Promise<ClientWebhookDelivery> {
    const now = this.deps.clock.now();
    const endpoint = await this.deps.deliveries.getEndpoint(client.id, url);
    const problem = clientWebhookUrlProblem(url, client.webhookDomains);
    const status: ClientWebhookDeliveryStatus = endpoint?.disabledAt ? 'disabled' : problem ? 'failed' : 'pending';
    return {
      id: clientWebhookDeliveryId(client.id, url, eventKey),
      clientId: client.id,
      url,
      event: body.event,
      eventKey,
      body: serializeClientWebhookEvent(body),
      timestamp: body.timestamp,
      status,
      attempts: 0,
      nextAttemptAt: status === 'pending' ? now : null,
      lastStatus: null,
      lastError: status === 'disabled' ? 'not sent: the endpoint answered 410 Gone earlier and is disabled' : problem ? `not sent: the webhook URL ${problem}` : null,
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    };
  }
}

const REMEMBERED_STARTS = 10_000;
/** Longest an execution.started row waits to be stored with its execution's end. */
const STARTED_ROW_DELAY_MS = 1_000;
/** Longest an execution's delivery rows wait to be stored with others' (see #storeLater). */
const STORE_BATCH_MS = 20;
/** Most delivery rows stored by one insert batch. */
const STORE_BATCH_MAX = 200;
/** Longest a finished execution's target waits to be moved with others' (see #finishLater). */
const FINISH_BATCH_MS = 50;
/** Most targets moved by one batch. */
const FINISH_BATCH_MAX = 200;

/** One execution's delivery rows waiting in the store batch, and its caller's promise. */
interface RowsToStore {
  readonly rows: readonly ClientWebhookDelivery[];
  resolve(): void;
  reject(error: unknown): void;
}

/** An execution.started delivery sent (or being sent), its row not stored yet. */
interface StartedRow {
  readonly id: string;
  /** The row with the attempt's result. */
  readonly row: Promise<ClientWebhookDelivery>;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Adds `id` to a set kept to its most recent REMEMBERED_STARTS entries. */
function remember(set: Set<string>, id: string): void {
  if (set.size >= REMEMBERED_STARTS) set.delete(set.values().next().value!);
  set.add(id);
}

/** A dispatcher in this process, to which deliveries enqueued here are handed (ClientWebhookDispatcher.sendNow). */
export interface LocalWebhookSender {
  /** How long a delivery handed over is claimed for (longer than an attempt can take). */
  readonly leaseMs: number;
  /**
   * Sends, in the background, a delivery being stored claimed with this lease (`stored` answers
   * whether this call stored it); `client` was read for it just now.
   */
  send(claimed: ClaimedClientWebhookDelivery, client: OAuthClient, stored: Promise<boolean>): void;
  /** Makes the first attempt of a delivery not stored yet and answers its result, to store it with (never throws). */
  deliver(delivery: ClientWebhookDelivery, client: OAuthClient): Promise<ClientWebhookAttemptResult>;
}
