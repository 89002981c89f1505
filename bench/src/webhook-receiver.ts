/**
 * The bench app's webhook endpoint: a keep-alive `node:http` server on 127.0.0.1 that notes when
 * each delivery has fully arrived (performance.now(), before anything else is done with it),
 * answers 200, and checks every delivery as the external API guide's handler does:
 * `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook secret>` and
 * `X-Webhook-Timestamp` equal to the body's `timestamp`. The end of an execution
 * (`execution.completed` or `execution.failed`) is handed to whoever waits for that execution id,
 * also when it arrives before the waiter asked (a fast execution's webhook can beat the answer of
 * the execute request that started it).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookArrival {
  /** performance.now() when the request body had fully arrived. */
  at: number;
  /** performance.now() when the same execution's execution.started had arrived, if it came first. */
  startedAt: number | null;
  event: string;
  data: Record<string, unknown>;
}

export class WebhookReceiver {
  /** Deliveries whose signature or timestamp did not check out (any makes the bench invalid). */
  readonly badSignatures: string[] = [];
  /** Deliveries received, every event. */
  received = 0;
  /** Signatures checked and found good. */
  verified = 0;
  url = '';
  secret = '';
  #server: Server | null = null;
  readonly #arrived = new Map<string, WebhookArrival>();
  readonly #started = new Map<string, number>();
  readonly #waiting = new Map<string, (arrival: WebhookArrival) => void>();

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
        this.received++;
        const raw = Buffer.concat(chunks);
        let body: { event?: string; timestamp?: string; data?: Record<string, unknown> };
        try {
          body = JSON.parse(raw.toString('utf8')) as typeof body;
        } catch {
          this.badSignatures.push('a delivery whose body is not JSON');
          return;
        }
        const problem = this.#check(raw, req.headers['x-webhook-signature'], req.headers['x-webhook-timestamp'], body.timestamp);
        if (problem) this.badSignatures.push(`${body.event}: ${problem}`);
        else this.verified++;
        const id = String(body.data?.execution_id);
        if (body.event === 'execution.started') this.#started.set(id, at);
        if (body.event !== 'execution.completed' && body.event !== 'execution.failed') return;
        const arrival: WebhookArrival = { at, startedAt: this.#started.get(id) ?? null, event: body.event, data: body.data ?? {} };
        this.#started.delete(id);
        const waiter = this.#waiting.get(id);
        if (waiter) {
          this.#waiting.delete(id);
          waiter(arrival);
        } else this.#arrived.set(id, arrival);
      });
    });
    this.#server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The end of execution `id` as its webhook announced it; rejects after `timeoutMs`. */
  finished(id: string, timeoutMs: number): Promise<WebhookArrival> {
    const early = this.#arrived.get(id);
    if (early) {
      this.#arrived.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no execution.completed/failed webhook for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (arrival) => {
        clearTimeout(timer);
        resolve(arrival);
      });
    });
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  #check(raw: Buffer, signature: string | string[] | undefined, timestampHeader: string | string[] | undefined, bodyTimestamp: string | undefined): string | null {
    if (typeof signature !== 'string') return 'no X-Webhook-Signature';
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`);
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'X-Webhook-Signature does not match the body';
    if (timestampHeader !== bodyTimestamp) return 'X-Webhook-Timestamp is not the body timestamp';
    return null;
  }
}
