import type {
  ClaimedClientWebhookDelivery,
  ClientWebhookAttemptResult,
  ClientWebhookDelivery,
  ClientWebhookDeliveryStatus,
  ClientWebhookEndpoint,
  ClientWebhookTarget,
  ClientWebhookTargetStage,
} from './client-webhook-delivery.js';

/** A claim made when a delivery is stored (see `enqueue`). */
export interface ClientWebhookClaim {
  readonly leaseToken: string;
  readonly leaseUntil: Date;
}

/** Which of a client's deliveries to list. */
export interface ClientWebhookDeliveryQuery {
  readonly status?: ClientWebhookDeliveryStatus;
  /** At most this many (1 to 500). */
  readonly limit: number;
  /** Only those created before this delivery (in the list's order): the next page. */
  readonly before?: { createdAt: Date; id: string } | null;
}

/**
 * The outbound webhook outbox of OAuth clients: deliveries, the endpoints they go to (with the
 * 410 Gone switch), and the executions whose events a client asked for. Every claim and result
 * is a compare-and-set, so any number of dispatcher processes can share one outbox without
 * sending one delivery twice at once.
 */
export interface ClientWebhookRepository {
  /**
   * Stores a delivery unless one with its id exists: true when this call stored it, false when
   * it was there already (nothing changes). Of concurrent calls with one id exactly one answers
   * true.
   *
   * With `claim`, a pending delivery is stored already claimed under that lease token until
   * `claim.leaseUntil` (as if `claimDue` had claimed it): the dispatcher of the process that
   * enqueued it sends it at once, and no other dispatcher takes it before the lease lapses.
   */
  enqueue(delivery: ClientWebhookDelivery, claim?: ClientWebhookClaim): Promise<boolean>;
  /**
   * Stores each delivery unless one with its id exists (as `enqueue` without a claim does), as
   * one write: one statement where storage has statements (for the few rows stored together;
   * a long list may take a few). Deliveries already there are left unchanged; an empty list
   * writes nothing.
   */
  enqueueMany(deliveries: readonly ClientWebhookDelivery[]): Promise<void>;
  get(id: string): Promise<ClientWebhookDelivery | null>;
  /**
   * Claims up to `limit` pending deliveries due at `now` (nextAttemptAt ≤ now) whose earlier
   * claim, if any, has lapsed (its leaseUntil ≤ now): earliest due first. Each is claimed with a
   * new lease token until `leaseUntil`; no concurrent or later call claims it again before then,
   * unless its result is recorded and it is due again.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedClientWebhookDelivery[]>;
  /**
   * Records an attempt's result on a claimed delivery and ends the claim, if the claim is still
   * the delivery's (same lease token, still pending): true then; false, changing nothing, when
   * the claim lapsed and another took the delivery, or it is gone.
   */
  recordAttempt(id: string, leaseToken: string, result: ClientWebhookAttemptResult): Promise<boolean>;
  /** The client's deliveries, newest first (createdAt, then id, descending). */
  listByClient(clientId: string, query: ClientWebhookDeliveryQuery): Promise<ClientWebhookDelivery[]>;
  /** Forgets every delivery, endpoint and target of the client (it was deleted); answers how many deliveries. */
  deleteByClient(clientId: string): Promise<number>;
  /**
   * Forgets settled deliveries (delivered, failed, disabled) last changed before `before`, and
   * finished targets created before it; answers how many deliveries went. Pending ones stay.
   */
  pruneSettled(before: Date): Promise<number>;

  /**
   * Notes that the client named `url` on an execute at `at`: creates the endpoint, or sets its
   * lastUsedAt to `at` and enables it again if a 410 had disabled it.
   */
  useEndpoint(clientId: string, url: string, at: Date): Promise<void>;
  getEndpoint(clientId: string, url: string): Promise<ClientWebhookEndpoint | null>;
  /**
   * Disables the endpoint at `at` (creating it if unknown) and marks every pending delivery to it
   * `disabled` (not attempted), except one currently claimed: its dispatcher records its own
   * result. Answers how many pending deliveries it disabled.
   */
  disableEndpoint(clientId: string, url: string, at: Date): Promise<number>;
  /** The client's endpoints, most recently used first, at most `limit`. */
  listEndpoints(clientId: string, limit: number): Promise<ClientWebhookEndpoint[]>;

  /** Stores where an execution's events go (stage `none`); a second target for one execution is a ConflictError. */
  recordTarget(target: ClientWebhookTarget): Promise<void>;
  getTarget(executionId: string): Promise<ClientWebhookTarget | null>;
  /** Moves a target's stage forward (none -> started -> finished); never back. False when unknown or already there or beyond. */
  advanceTarget(executionId: string, stage: ClientWebhookTargetStage): Promise<boolean>;
  /**
   * `advanceTarget` for several executions in one write (one statement where storage has
   * statements): moves each known target not yet at `stage` forward to it, never back. Answers
   * how many moved (an id named twice counts once); an empty list writes nothing.
   */
  advanceTargets(executionIds: readonly string[], stage: ClientWebhookTargetStage): Promise<number>;
  /** Up to `limit` targets not yet `finished`, created before `createdBefore`, ordered by execution id after `afterExecutionId`. */
  listUnfinishedTargets(createdBefore: Date, afterExecutionId: string | null, limit: number): Promise<ClientWebhookTarget[]>;
}
export const ClientWebhookRepository = Symbol.for('blockyard/ClientWebhookRepository');
