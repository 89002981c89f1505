import * as crypto from 'node:crypto';

/** The events a third-party app hears by webhook (as in the external API guide). */
export const CLIENT_WEBHOOK_EVENTS = ['execution.started', 'execution.completed', 'execution.failed', 'grant.revoked'] as const;
export type ClientWebhookEvent = (typeof CLIENT_WEBHOOK_EVENTS)[number];

/**
 * pending: waiting for its (next) attempt; delivered: answered 2xx; failed: given up (the
 * retry schedule ran out, or it can never be sent: its URL is no longer allowed, its client is
 * gone, its address is internal); disabled: not sent (any more) because its endpoint answered
 * 410 Gone.
 */
export const CLIENT_WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'disabled'] as const;
export type ClientWebhookDeliveryStatus = (typeof CLIENT_WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * One webhook to one URL of one OAuth client, in the outbox: stored before it is sent, so that
 * it survives a restart, and retried until it is delivered or given up.
 */
export interface ClientWebhookDelivery {
  /**
   * `msg_` + 32 hex characters, derived from (client, URL, event key): the same event to the same
   * endpoint is one delivery however often it is enqueued. Sent as `webhook-id`, the same on
   * every attempt, so receivers can drop repeats.
   */
  readonly id: string;
  readonly clientId: string;
  readonly url: string;
  readonly event: ClientWebhookEvent;
  /** What the event is about, e.g. `execution.started:<execution id>`; with client and URL it makes the id. */
  readonly eventKey: string;
  /** The JSON body `{ event, timestamp, data }`, exactly the bytes sent and signed. */
  readonly body: string;
  /** The body's `timestamp` (ISO 8601), sent as `X-Webhook-Timestamp`. */
  readonly timestamp: string;
  readonly status: ClientWebhookDeliveryStatus;
  /** Attempts made so far (requests sent, or found impossible to send). */
  readonly attempts: number;
  /** When the next attempt is due; null unless pending. */
  readonly nextAttemptAt: Date | null;
  /** The HTTP status of the last attempt; null when it got none (not yet tried, timeout, network error). */
  readonly lastStatus: number | null;
  /** Why the last attempt failed, in words (never a secret); null after success or before any attempt. */
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly deliveredAt: Date | null;
}

/** How an attempt ended, as the repository records it. */
export interface ClientWebhookAttemptResult {
  readonly status: ClientWebhookDeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: Date | null;
  readonly updatedAt: Date;
}

/** A delivery claimed for an attempt: no other dispatcher takes it until `leaseUntil`. */
export interface ClaimedClientWebhookDelivery {
  readonly delivery: ClientWebhookDelivery;
  /** Identifies this claim; recording the attempt's result needs it (a lapsed claim cannot record). */
  readonly leaseToken: string;
  readonly leaseUntil: Date;
}

/**
 * A webhook endpoint of a client: a URL it named on an execute. An endpoint that answered
 * 410 Gone is disabled (`disabledAt`), so nothing more is sent to it, until the client names the
 * URL again on a new execute.
 */
export interface ClientWebhookEndpoint {
  readonly clientId: string;
  readonly url: string;
  /** When an execute last named it. */
  readonly lastUsedAt: Date;
  readonly disabledAt: Date | null;
}

/**
 * An execution started by a client with a `webhook_url`: where its events go, and which of them
 * are in the outbox already (`none` -> `started` -> `finished`), for reconciliation.
 */
export interface ClientWebhookTarget {
  readonly executionId: string;
  readonly clientId: string;
  readonly url: string;
  readonly stage: ClientWebhookTargetStage;
  readonly createdAt: Date;
}
export const CLIENT_WEBHOOK_TARGET_STAGES = ['none', 'started', 'finished'] as const;
export type ClientWebhookTargetStage = (typeof CLIENT_WEBHOOK_TARGET_STAGES)[number];

/** Every delivery id starts with this. */
export const CLIENT_WEBHOOK_DELIVERY_ID_PREFIX = 'msg_';

/** The delivery id of an event to an endpoint: the same inputs always give the same id. */
export function clientWebhookDeliveryId(clientId: string, url: string, eventKey: string): string {
  return CLIENT_WEBHOOK_DELIVERY_ID_PREFIX + sha256Hex(`${clientId}\n${url}\n${eventKey}`).slice(0, 32);
}

/**
 * SHA-256 of a string (UTF-8) in hex: Node's one-shot `crypto.hash` where it has it (20.12+,
 * cheaper than a Hash object for a short input), else createHash; the same digest either way.
 */
const sha256Hex: (data: string) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : (data) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * Waits before each retry: about 5 s, 5 min, 30 min, 2 h, 5 h and 10 h (Standard Webhooks'
 * schedule); after the last one fails the delivery is given up, so 7 attempts in all over about
 * 17.5 hours.
 */
export const DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];
