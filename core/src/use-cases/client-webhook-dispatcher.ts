import type { EncryptedSecret } from '../credential/secret-cipher.port.js';
import { ValidationError } from '../errors/domain.errors.js';
import { DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS, type ClaimedClientWebhookDelivery, type ClientWebhookAttemptResult, type ClientWebhookDelivery } from '../client-webhook/client-webhook-delivery.js';
import type { ClientWebhookRepository } from '../client-webhook/client-webhook.repository.port.js';
import { clientWebhookSignatureHeaders } from '../client-webhook/client-webhook-signature.js';
import { clientWebhookUrlProblem } from '../client-webhook/client-webhook-url.js';
import { isOAuthClientActive, type OAuthClient } from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { OutboundRequestError, type ContextFetch, type FetchResponse, type OutboundHttp } from '../outbound/outbound-http.port.js';
import type { Clock } from '../system/clock.port.js';
import type { Logger } from '../system/logger.port.js';
import type { LocalWebhookSender } from './client-webhook.service.js';

export interface ClientWebhookDispatcherOptions {
  /** Waits before each retry; once they are used up the delivery is given up. Default about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. */
  retryScheduleMs?: readonly number[];
  /** Spread of each wait, ± this fraction at random (so that retries after an outage do not all land at once). Default 0.1. */
  jitter?: number;
  /** Time limit of one attempt: connect, answer and body. Default 15 s. */
  timeoutMs?: number;
  /** How long a claim lasts; longer than an attempt can take. Default 2 × timeoutMs + 5 s (a crashed dispatcher's deliveries wait that long). */
  leaseMs?: number;
  /** Deliveries claimed and sent at once. Default 16. */
  batchSize?: number;
  /** Random numbers in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
}

export interface ClientWebhookDispatcherDeps {
  deliveries: ClientWebhookRepository;
  clients: OAuthClientRepository;
  /** Opens a client's sealed webhook signing secret (OAuthClientService.openWebhookSecret). */
  webhookSecret: (client: OAuthClient) => string;
  outbound: OutboundHttp;
  clock: Clock;
  logger: Logger;
}

/** How long an opened webhook signing secret is reused, and how many are kept. */
const OPENED_SECRET_TTL_MS = 60_000;
const OPENED_SECRETS_MAX = 1_000;
/** The longest Retry-After honoured: a day. */
const MAX_RETRY_AFTER_MS = 86_400_000;
/** Most batches one `dispatchDue` sends before it returns (the next tick goes on). */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Sends due deliveries from the outbox: claims them (a lease in storage, so that several
 * dispatchers, in any number of processes, never send one at the same time), checks again that
 * the client may receive webhooks at the URL (its webhook_domains may have changed; https, or
 * http on localhost), signs the body both ways (the guide's X-Webhook-Signature and Standard
 * Webhooks'), and POSTs it through OutboundHttp, whose SSRF guard refuses internal addresses.
 *
 * An answer 2xx delivers it; 410 Gone disables the endpoint (this delivery and every other one
 * pending to the client's URL are not sent, and no later one is until the client names the URL
 * on an execute again); anything else, 3xx included (redirects are never followed), a timeout
 * or a network error, is a failed attempt, retried on the schedule and given up after its last
 * step. A URL no longer allowed, an internal address, or a deleted client fail at once.
 */
export class ClientWebhookDispatcher implements LocalWebhookSender {
  readonly #schedule: readonly number[];
  readonly #jitter: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #batchSize: number;
  readonly #random: () => number;
  readonly #fetch: ContextFetch;
  readonly #sending = new Set<Promise<void>>();
  readonly #secrets = new Map<string, { sealed: EncryptedSecret; secret: string; until: number }>();

  constructor(
    private readonly deps: ClientWebhookDispatcherDeps,
    options: ClientWebhookDispatcherOptions = {},
  ) {
    this.#schedule = options.retryScheduleMs ?? DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS;
    if (this.#schedule.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new ValidationError('webhook retry delays must be milliseconds ≥ 0');
    this.#jitter = options.jitter ?? 0.1;
    if (!(this.#jitter >= 0 && this.#jitter < 1)) throw new ValidationError('webhook retry jitter must be from 0 to below 1');
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    if (!(this.#timeoutMs > 0)) throw new ValidationError('webhook timeout must be above 0 ms');
    this.#leaseMs = options.leaseMs ?? 2 * this.#timeoutMs + 5_000;
    if (!(this.#leaseMs > this.#timeoutMs)) throw new ValidationError('a webhook claim must last longer than the attempt timeout');
    this.#batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) throw new ValidationError('webhook batch size must be a whole number ≥ 1');
    this.#random = options.random ?? Math.random;
    this.#fetch = deps.outbound.createFetch({});
  }

  /** Attempts in all before a delivery is given up. */
  get maxAttempts(): number {
    return this.#schedule.length + 1;
  }

  /** How long a claim lasts (LocalWebhookSender: deliveries handed over are claimed this long). */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /**
   * LocalWebhookSender: attempts, in the background, a delivery this process is storing claimed
   * for this dispatcher, with its client as read for it (the enqueue checked its endpoint, too).
   * The attempt starts at once; its result is recorded once the row is stored, and not at all if
   * `stored` answers false or fails (the row is someone else's). `drain()` waits for these attempts.
   */
  send(claimed: ClaimedClientWebhookDelivery, client: OAuthClient, stored: Promise<boolean>): void {
    const attempt = this.attempt(claimed, client, stored);
    this.#sending.add(attempt);
    void attempt.finally(() => this.#sending.delete(attempt));
  }

  /**
   * LocalWebhookSender: the first attempt of a delivery its enqueuer stores afterwards, with the
   * result this answers (its client was read, and its endpoint checked, for it just now).
   */
  async deliver(delivery: ClientWebhookDelivery, client: OAuthClient): Promise<ClientWebhookAttemptResult> {
    let result: ClientWebhookAttemptResult;
    try {
      result = await this.#send({ delivery, leaseToken: '', leaseUntil: delivery.createdAt }, client);
    } catch (e) {
      // Storage failed (a 410's endpoint switch): tried again on the schedule.
      result = this.#retryOrGiveUp(delivery.attempts + 1, null, `could not finish the attempt: ${e instanceof Error ? e.message : String(e)}`, undefined);
    }
    this.#logResult(delivery, result);
    return result;
  }

  /** Resolves once the attempts handed over by `send` so far have ended. */
  async drain(): Promise<void> {
    while (this.#sending.size) await Promise.all([...this.#sending]);
  }

  /** Sends what is due now, batch after batch, until nothing is due; answers how many attempts it made. */
  async dispatchDue(): Promise<number> {
    let attempts = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const now = this.deps.clock.now();
      const claimed = await this.deps.deliveries.claimDue(now, new Date(now.getTime() + this.#leaseMs), this.#batchSize);
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((c) => this.attempt(c)));
      attempts += claimed.length;
    }
    return attempts;
  }

  /**
   * One attempt of a claimed delivery, its result recorded (never throws: a failure is a result).
   * `checked`: its client, read just now by whoever enqueued it after checking its endpoint;
   * `stored`: whether its row was stored with this claim, when that was still under way.
   */
  async attempt(claimed: ClaimedClientWebhookDelivery, checked?: OAuthClient, stored?: Promise<boolean>): Promise<void> {
    const { delivery } = claimed;
    let result: ClientWebhookAttemptResult;
    try {
      result = await this.#send(claimed, checked);
    } catch (e) {
      // Storage failed while checking: the claim lapses and another attempt takes it later.
      this.deps.logger.warn('outbound webhook attempt could not run; it is retried when its claim lapses', { deliveryId: delivery.id, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (stored && !(await stored.catch(() => false))) {
      this.deps.logger.debug('outbound webhook sent, but its row was stored by another process or not at all: its holder records it', { deliveryId: delivery.id });
      return;
    }
    const recorded = await this.deps.deliveries.recordAttempt(delivery.id, claimed.leaseToken, result).catch((e: unknown) => {
      this.deps.logger.warn('outbound webhook result could not be recorded', { deliveryId: delivery.id, error: e instanceof Error ? e.message : String(e) });
      return false;
    });
    if (recorded) this.#logResult(delivery, result);
  }

  /**
   * The client's webhook signing secret. Opening it (AES-GCM) costs more than signing, so an
   * opened secret is reused for a minute, per client and only while its sealed form is the same:
   * a rotated secret is opened again at once. (Keyed by the client's id, its sealed form compared
   * field by field: cheaper than building and hashing one string of it per attempt.)
   */
  #openSecret(client: OAuthClient): string {
    const sealed = client.webhookSecret;
    const now = Date.now();
    const cached = this.#secrets.get(client.id);
    if (cached && cached.until > now && sameSealedSecret(cached.sealed, sealed)) return cached.secret;
    const secret = this.deps.webhookSecret(client);
    if (!cached && this.#secrets.size >= OPENED_SECRETS_MAX) this.#secrets.delete(this.#secrets.keys().next().value!);
    this.#secrets.set(client.id, { sealed, secret, until: now + OPENED_SECRET_TTL_MS });
    return secret;
  }

  #logResult(delivery: ClientWebhookDelivery, result: ClientWebhookAttemptResult): void {
    const fields = { deliveryId: delivery.id, clientId: delivery.clientId, event: delivery.event, attempt: result.attempts, httpStatus: result.lastStatus };
    if (result.status === 'delivered') this.deps.logger.debug('outbound webhook delivered', fields);
    else if (result.status === 'pending') this.deps.logger.info('outbound webhook attempt failed; retrying later', { ...fields, error: result.lastError, nextAttemptAt: result.nextAttemptAt?.toISOString() });
    else this.deps.logger.warn(`outbound webhook ${result.status}`, { ...fields, error: result.lastError });
  }

  async #send(claimed: ClaimedClientWebhookDelivery, checked: OAuthClient | undefined): Promise<ClientWebhookAttemptResult> {
    const { delivery } = claimed;
    const attempts = delivery.attempts + 1;
    const settle = (status: 'failed' | 'disabled', lastError: string, lastStatus: number | null = null): ClientWebhookAttemptResult => ({
      status,
      attempts,
      nextAttemptAt: null,
      lastStatus,
      lastError,
      deliveredAt: null,
      updatedAt: this.deps.clock.now(),
    });

    const client = checked ?? (await this.deps.clients.get(delivery.clientId));
    if (!client) return settle('failed', 'not sent: the OAuth client was deleted');
    const problem = clientWebhookUrlProblem(delivery.url, client.webhookDomains);
    if (problem) return settle('failed', `not sent: the webhook URL ${problem}`);
    const endpoint = checked ? null : await this.deps.deliveries.getEndpoint(delivery.clientId, delivery.url);
    if (endpoint?.disabledAt) return settle('disabled', 'not sent: the endpoint answered 410 Gone earlier and is disabled');
    if (!isOAuthClientActive(client)) return this.#retryOrGiveUp(attempts, null, 'not sent: the OAuth client is disabled', undefined);

    let secret: string;
    try {
      secret = this.#openSecret(client);
    } catch {
      // A key missing from the configured encryption keys: retried, in case it comes back.
      return this.#retryOrGiveUp(attempts, null, "not sent: the client's webhook signing secret cannot be opened (is its encryption key configured?)", undefined);
    }
    const attemptAt = this.deps.clock.now();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'blockyard-webhooks',
      ...clientWebhookSignatureHeaders({ secret, id: delivery.id, body: delivery.body, timestamp: delivery.timestamp, attemptAt }),
    };
    let response: FetchResponse;
    try {
      // Only the status (and Retry-After) matter: the answer's body is read to its end but not kept.
      response = await this.#fetch(delivery.url, { method: 'POST', headers, body: delivery.body, timeoutMs: this.#timeoutMs, retry: false, redirect: 'manual', discardBody: true });
    } catch (e) {
      if (e instanceof OutboundRequestError) {
        if (e.code === 'blocked_address') return settle('failed', `not sent: ${e.message} (internal addresses never receive webhooks)`);
        if (e.code === 'invalid_url') return settle('failed', `not sent: ${e.message}`);
        if (e.code === 'timeout') return this.#retryOrGiveUp(attempts, null, `no answer within ${this.#timeoutMs} ms`, undefined);
        return this.#retryOrGiveUp(attempts, null, e.message, undefined);
      }
      return this.#retryOrGiveUp(attempts, null, e instanceof Error ? e.message : String(e), undefined);
    }
    const status = response.status;
    if (status >= 200 && status <= 299) {
      const at = this.deps.clock.now();
      return { status: 'delivered', attempts, nextAttemptAt: null, lastStatus: status, lastError: null, deliveredAt: at, updatedAt: at };
    }
    if (status === 410) {
      await this.deps.deliveries.disableEndpoint(delivery.clientId, delivery.url, this.deps.clock.now());
      return settle('disabled', 'the endpoint answered 410 Gone: it is disabled until the client names its URL on an execute again', status);
    }
    const why = status >= 300 && status <= 399 ? `answered ${status} (a redirect: redirects are not followed, register the final URL)` : `answered ${status}`;
    return this.#retryOrGiveUp(attempts, status, why, response.headers['retry-after']);
  }

  #retryOrGiveUp(attempts: number, lastStatus: number | null, lastError: string, retryAfter: string | undefined): ClientWebhookAttemptResult {
    const now = this.deps.clock.now();
    const wait = this.#schedule[attempts - 1];
    if (wait === undefined) {
      return { status: 'failed', attempts, nextAttemptAt: null, lastStatus, lastError: `${lastError}; given up after ${attempts} attempts`, deliveredAt: null, updatedAt: now };
    }
    const jittered = wait * (1 + this.#jitter * (2 * this.#random() - 1));
    const delay = Math.max(jittered, retryAfterMs(retryAfter, now) ?? 0);
    return { status: 'pending', attempts, nextAttemptAt: new Date(now.getTime() + Math.round(delay)), lastStatus, lastError, deliveredAt: null, updatedAt: now };
  }
}

/** Whether two sealed secrets are the same one (the same key, ciphertext and tag). */
function sameSealedSecret(a: EncryptedSecret, b: EncryptedSecret): boolean {
  return a.ciphertext === b.ciphertext && a.tag === b.tag && a.keyId === b.keyId;
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`, at most a day; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now.getTime();
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
