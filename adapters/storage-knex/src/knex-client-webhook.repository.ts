import { randomUUID } from 'node:crypto';
import {
  CLIENT_WEBHOOK_TARGET_STAGES,
  type ClaimedClientWebhookDelivery,
  type ClientWebhookClaim,
  type ClientWebhookAttemptResult,
  type ClientWebhookDelivery,
  type ClientWebhookDeliveryQuery,
  type ClientWebhookDeliveryStatus,
  type ClientWebhookEndpoint,
  type ClientWebhookEvent,
  type ClientWebhookRepository,
  type ClientWebhookTarget,
  type ClientWebhookTargetStage,
} from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface DeliveryRow {
  id: string;
  client_id: string;
  url: string;
  event: ClientWebhookEvent;
  event_key: string;
  /** The exact bytes sent: text on both dialects (jsonb would reorder keys). */
  body: string;
  event_timestamp: string;
  status: ClientWebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: DbDate | null;
  lease_token: string | null;
  lease_until: DbDate | null;
  last_status: number | null;
  last_error: string | null;
  created_at: DbDate;
  updated_at: DbDate;
  delivered_at: DbDate | null;
}

interface EndpointRow {
  client_id: string;
  url: string;
  last_used_at: DbDate;
  disabled_at: DbDate | null;
}

interface TargetRow {
  execution_id: string;
  client_id: string;
  url: string;
  stage: ClientWebhookTargetStage;
  created_at: DbDate;
}

const DELIVERIES = 'client_webhook_deliveries';
const ENDPOINTS = 'client_webhook_endpoints';
const TARGETS = 'client_webhook_targets';
/** Rows removed per statement when pruning, so that no one statement holds the writer long. */
const PRUNE_BATCH = 1000;
/**
 * Most rows of one insert in `enqueueMany`: within SQLite's limits on a statement's bindings (16
 * a row) and on the terms of a compound select (500; knex writes SQLite's multi-row insert as one).
 */
const ENQUEUE_BATCH = 200;
/** Most executions named by one statement of `advanceTargets` (a power of two, see paddedToPowerOfTwo). */
const ADVANCE_BATCH = 256;

/**
 * The client webhook outbox in three tables. A claim is a compare-and-set per delivery (its
 * status, due time, attempts and lapsed lease as read), run for a batch at once (one shared
 * transaction under group commit); recording a result is another, on the claim's lease token.
 * So dispatchers in any number of processes never hold one delivery at the same time.
 */
export class KnexClientWebhookRepository implements ClientWebhookRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async enqueue(delivery: ClientWebhookDelivery, claim?: ClientWebhookClaim): Promise<boolean> {
    const row = this.toRow(delivery);
    if (claim) Object.assign(row, { lease_token: claim.leaseToken, lease_until: this.codec.date(claim.leaseUntil) });
    const inserted = await this.writes.runCounted((db) => db<DeliveryRow>(DELIVERIES).insert(row).onConflict('id').ignore());
    return inserted > 0;
  }

  async enqueueMany(deliveries: readonly ClientWebhookDelivery[]): Promise<void> {
    const rows = deliveries.map((delivery) => this.toRow(delivery));
    // One multi-row insert (a few rows in practice; chunked only to stay within bind limits).
    const writes: Promise<unknown>[] = [];
    for (let start = 0; start < rows.length; start += ENQUEUE_BATCH) {
      const chunk = rows.slice(start, start + ENQUEUE_BATCH);
      writes.push(this.writes.runStatement((db) => db<DeliveryRow>(DELIVERIES).insert(chunk).onConflict('id').ignore()));
    }
    await Promise.all(writes);
  }

  async get(id: string): Promise<ClientWebhookDelivery | null> {
    const row = await this.reads.first<DeliveryRow>(this.reads.knex<DeliveryRow>(DELIVERIES).where('id', id));
    return row ? this.toDelivery(row) : null;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedClientWebhookDelivery[]> {
    if (limit <= 0) return [];
    const at = this.codec.date(now);
    const until = this.codec.date(leaseUntil);
    // Candidates as read; some may be claimed by another dispatcher before our compare-and-set.
    const candidates = await this.reads.all<DeliveryRow>(
      this.reads
        .knex<DeliveryRow>(DELIVERIES)
        .where('status', 'pending')
        .where('next_attempt_at', '<=', at)
        .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', at))
        .orderBy([{ column: 'next_attempt_at' }, { column: 'id' }])
        .limit(limit * 3 + 8),
    );
    const claimed: ClaimedClientWebhookDelivery[] = [];
    for (let start = 0; start < candidates.length && claimed.length < limit; ) {
      const chunk = candidates.slice(start, start + (limit - claimed.length));
      start += chunk.length;
      const outcomes = await Promise.all(
        chunk.map(async (row) => {
          const token = randomUUID();
          // `attempts` as read: a delivery attempted (and due again) meanwhile is not claimed with stale fields.
          const changed = await this.writes.runCounted((db) =>
            db<DeliveryRow>(DELIVERIES)
              .where({ id: row.id, status: 'pending', attempts: row.attempts })
              .where('next_attempt_at', '<=', at)
              .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', at))
              .update({ lease_token: token, lease_until: until }),
          );
          return changed > 0 ? { delivery: this.toDelivery(row), leaseToken: token, leaseUntil: new Date(leaseUntil) } : null;
        }),
      );
      for (const outcome of outcomes) if (outcome) claimed.push(outcome);
    }
    return claimed;
  }

  async recordAttempt(id: string, leaseToken: string, result: ClientWebhookAttemptResult): Promise<boolean> {
    const { codec } = this;
    const changed = await this.writes.runCounted((db) =>
      db<DeliveryRow>(DELIVERIES)
        .where({ id, lease_token: leaseToken, status: 'pending' })
        .update({
          status: result.status,
          attempts: result.attempts,
          next_attempt_at: codec.nullableDate(result.nextAttemptAt),
          last_status: result.lastStatus,
          last_error: result.lastError,
          delivered_at: codec.nullableDate(result.deliveredAt),
          updated_at: codec.date(result.updatedAt),
          lease_token: null,
          lease_until: null,
        }),
    );
    return changed > 0;
  }

  async listByClient(clientId: string, query: ClientWebhookDeliveryQuery): Promise<ClientWebhookDelivery[]> {
    if (query.limit <= 0) return [];
    const q = this.reads
      .knex<DeliveryRow>(DELIVERIES)
      .where('client_id', clientId)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(query.limit);
    if (query.status !== undefined) q.where('status', query.status);
    const before = query.before;
    if (before) {
      const at = this.codec.date(before.createdAt);
      q.where((w) => w.where('created_at', '<', at).orWhere((same) => same.where('created_at', at).where('id', '<', before.id)));
    }
    const rows = await this.reads.all<DeliveryRow>(q);
    return rows.map((row) => this.toDelivery(row));
  }

  async deleteByClient(clientId: string): Promise<number> {
    return this.writes.run(async (db) => {
      const deleted = await db<DeliveryRow>(DELIVERIES).where('client_id', clientId).delete();
      await db<EndpointRow>(ENDPOINTS).where('client_id', clientId).delete();
      await db<TargetRow>(TARGETS).where('client_id', clientId).delete();
      return deleted;
    });
  }

  async pruneSettled(before: Date): Promise<number> {
    const cutoff = this.codec.date(before);
    let pruned = 0;
    for (;;) {
      const deleted = await this.writes.runCounted((db) =>
        db<DeliveryRow>(DELIVERIES)
          .whereIn('id', db<DeliveryRow>(DELIVERIES).select('id').whereIn('status', ['delivered', 'failed', 'disabled']).where('updated_at', '<', cutoff).limit(PRUNE_BATCH))
          .delete(),
      );
      pruned += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
    for (;;) {
      const deleted = await this.writes.runCounted((db) =>
        db<TargetRow>(TARGETS)
          .whereIn('execution_id', db<TargetRow>(TARGETS).select('execution_id').where('stage', 'finished').where('created_at', '<', cutoff).limit(PRUNE_BATCH))
          .delete(),
      );
      if (deleted < PRUNE_BATCH) break;
    }
    return pruned;
  }

  async useEndpoint(clientId: string, url: string, at: Date): Promise<void> {
    const lastUsedAt = this.codec.date(at);
    await this.writes.runStatement((db) =>
      db<EndpointRow>(ENDPOINTS).insert({ client_id: clientId, url, last_used_at: lastUsedAt, disabled_at: null }).onConflict(['client_id', 'url']).merge({ last_used_at: lastUsedAt, disabled_at: null }),
    );
  }

  async getEndpoint(clientId: string, url: string): Promise<ClientWebhookEndpoint | null> {
    const row = await this.reads.first<EndpointRow>(this.reads.knex<EndpointRow>(ENDPOINTS).where({ client_id: clientId, url }));
    return row ? this.toEndpoint(row) : null;
  }

  async disableEndpoint(clientId: string, url: string, at: Date): Promise<number> {
    const when = this.codec.date(at);
    return this.writes.run(async (db) => {
      await db<EndpointRow>(ENDPOINTS).insert({ client_id: clientId, url, last_used_at: when, disabled_at: when }).onConflict(['client_id', 'url']).ignore();
      await db<EndpointRow>(ENDPOINTS).where({ client_id: clientId, url }).whereNull('disabled_at').update({ disabled_at: when });
      const disabled = await db<DeliveryRow>(DELIVERIES)
        .where({ client_id: clientId, url, status: 'pending' })
        .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', when))
        .update({ status: 'disabled', next_attempt_at: null, last_error: 'not sent: the endpoint answered 410 Gone and is disabled', updated_at: when, lease_token: null, lease_until: null });
      return Number(disabled);
    });
  }

  async listEndpoints(clientId: string, limit: number): Promise<ClientWebhookEndpoint[]> {
    if (limit <= 0) return [];
    const rows = await this.reads.all<EndpointRow>(
      this.reads
        .knex<EndpointRow>(ENDPOINTS)
        .where('client_id', clientId)
        .orderBy([
          { column: 'last_used_at', order: 'desc' },
          { column: 'url', order: 'asc' },
        ])
        .limit(limit),
    );
    return rows.map((row) => this.toEndpoint(row));
  }

  async recordTarget(target: ClientWebhookTarget): Promise<void> {
    const row: TargetRow = { execution_id: target.executionId, client_id: target.clientId, url: target.url, stage: target.stage, created_at: this.codec.date(target.createdAt) };
    await this.writes
      .runStatement((db) => db<TargetRow>(TARGETS).insert(row))
      .catch((error: unknown) => rethrowUniqueViolation(error, () => `execution ${target.executionId} already has a webhook target`));
  }

  async getTarget(executionId: string): Promise<ClientWebhookTarget | null> {
    const row = await this.reads.first<TargetRow>(this.reads.knex<TargetRow>(TARGETS).where('execution_id', executionId));
    return row ? this.toTarget(row) : null;
  }

  async advanceTarget(executionId: string, stage: ClientWebhookTargetStage): Promise<boolean> {
    const earlier = CLIENT_WEBHOOK_TARGET_STAGES.slice(0, CLIENT_WEBHOOK_TARGET_STAGES.indexOf(stage));
    if (earlier.length === 0) return false;
    const changed = await this.writes.runCounted((db) => db<TargetRow>(TARGETS).where('execution_id', executionId).whereIn('stage', earlier).update({ stage }));
    return changed > 0;
  }

  async advanceTargets(executionIds: readonly string[], stage: ClientWebhookTargetStage): Promise<number> {
    const earlier = CLIENT_WEBHOOK_TARGET_STAGES.slice(0, CLIENT_WEBHOOK_TARGET_STAGES.indexOf(stage));
    const ids = [...new Set(executionIds)];
    if (earlier.length === 0 || ids.length === 0) return 0;
    const counts: Promise<number>[] = [];
    for (let start = 0; start < ids.length; start += ADVANCE_BATCH) {
      const chunk = paddedToPowerOfTwo(ids.slice(start, start + ADVANCE_BATCH));
      counts.push(this.writes.runCounted((db) => db<TargetRow>(TARGETS).whereIn('execution_id', chunk).whereIn('stage', earlier).update({ stage })));
    }
    return (await Promise.all(counts)).reduce((sum, n) => sum + n, 0);
  }

  async listUnfinishedTargets(createdBefore: Date, afterExecutionId: string | null, limit: number): Promise<ClientWebhookTarget[]> {
    if (limit <= 0) return [];
    const q = this.reads
      .knex<TargetRow>(TARGETS)
      .whereIn('stage', ['none', 'started'])
      .where('created_at', '<', this.codec.date(createdBefore))
      .orderBy('execution_id')
      .limit(limit);
    if (afterExecutionId !== null) q.where('execution_id', '>', afterExecutionId);
    const rows = await this.reads.all<TargetRow>(q);
    return rows.map((row) => this.toTarget(row));
  }

  private toRow(d: ClientWebhookDelivery): DeliveryRow {
    const { codec } = this;
    return {
      id: d.id,
      client_id: d.clientId,
      url: d.url,
      event: d.event,
      event_key: d.eventKey,
      body: d.body,
      event_timestamp: d.timestamp,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: codec.nullableDate(d.nextAttemptAt),
      lease_token: null,
      lease_until: null,
      last_status: d.lastStatus,
      last_error: d.lastError,
      created_at: codec.date(d.createdAt),
      updated_at: codec.date(d.updatedAt),
      delivered_at: codec.nullableDate(d.deliveredAt),
    };
  }

  private toDelivery(row: DeliveryRow): ClientWebhookDelivery {
    const { codec } = this;
    return {
      id: row.id,
      clientId: row.client_id,
      url: row.url,
      event: row.event,
      eventKey: row.event_key,
      body: row.body,
      timestamp: row.event_timestamp,
      status: row.status,
      attempts: Number(row.attempts),
      nextAttemptAt: codec.readNullableDate(row.next_attempt_at),
      lastStatus: row.last_status === null ? null : Number(row.last_status),
      lastError: row.last_error,
      createdAt: codec.readDate(row.created_at),
      updatedAt: codec.readDate(row.updated_at),
      deliveredAt: codec.readNullableDate(row.delivered_at),
    };
  }

  private toEndpoint(row: EndpointRow): ClientWebhookEndpoint {
    return { clientId: row.client_id, url: row.url, lastUsedAt: this.codec.readDate(row.last_used_at), disabledAt: this.codec.readNullableDate(row.disabled_at) };
  }

  private toTarget(row: TargetRow): ClientWebhookTarget {
    return { executionId: row.execution_id, clientId: row.client_id, url: row.url, stage: row.stage, createdAt: this.codec.readDate(row.created_at) };
  }
}

/**
 * The ids, the last repeated until their count is a power of two: `in (...)` lists of a few
 * lengths only, so that the SQLite driver path's per-connection cache of prepared statements
 * (keyed by SQL text, cleared whole when full) keeps a handful of texts instead of one per
 * batch size. A repeated id changes nothing: `in` matches each row once.
 */
function paddedToPowerOfTwo(ids: readonly string[]): string[] {
  let size = 1;
  while (size < ids.length) size *= 2;
  return [...ids, ...Array.from({ length: size - ids.length }, () => ids[ids.length - 1]!)];
}
