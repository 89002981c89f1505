import { createHmac } from 'node:crypto';
import { OAUTH_WEBHOOK_SECRET_PREFIX } from '../oauth-client/oauth-client.js';

/** What one attempt of a delivery is signed over. */
export interface ClientWebhookSigningInput {
  /** The client's webhook signing secret, `whsec_...`. */
  readonly secret: string;
  /** The delivery id (`webhook-id`). */
  readonly id: string;
  /** The raw JSON body, exactly as sent. */
  readonly body: string;
  /** The body's `timestamp` (ISO 8601), sent as `X-Webhook-Timestamp`. */
  readonly timestamp: string;
  /** When this attempt is made: `webhook-timestamp` is its Unix seconds. */
  readonly attemptAt: Date;
}

/**
 * The headers that sign a delivery, both schemes at once:
 *
 * - the external API guide's: `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>`,
 *   keyed with the secret string as it was shown (`whsec_...`, UTF-8), and `X-Webhook-Timestamp`,
 *   the body's timestamp (so it is covered by the signature);
 * - Standard Webhooks': `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt) and
 *   `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the
 *   bytes the secret encodes: the base64 after `whsec_` (see {@link standardWebhooksKey}).
 */
export function clientWebhookSignatureHeaders(input: ClientWebhookSigningInput): Record<string, string> {
  const seconds = Math.floor(input.attemptAt.getTime() / 1000);
  const legacy = createHmac('sha256', input.secret).update(input.body).digest('hex');
  const standard = createHmac('sha256', standardWebhooksKey(input.secret)).update(`${input.id}.${seconds}.${input.body}`).digest('base64');
  return {
    'x-webhook-signature': `sha256=${legacy}`,
    'x-webhook-timestamp': input.timestamp,
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${standard}`,
  };
}

/**
 * The Standard Webhooks HMAC key of a `whsec_` secret: the base64 after the prefix, decoded
 * (either alphabet: ours are generated url-safe, the standard's libraries expect the standard
 * one, and both decode to the same 32 bytes).
 */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(OAUTH_WEBHOOK_SECRET_PREFIX) ? secret.slice(OAUTH_WEBHOOK_SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}
