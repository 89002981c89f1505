import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
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
  const keys = signingKeys(input.secret);
  const legacy = createHmac('sha256', keys.legacy).update(input.body).digest('hex');
  const standard = createHmac('sha256', keys.standard).update(`${input.id}.${seconds}.${input.body}`).digest('base64');
  return {
    'x-webhook-signature': `sha256=${legacy}`,
    'x-webhook-timestamp': input.timestamp,
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${standard}`,
  };
}

/** Secrets whose HMAC keys are cached, at most; the cache is emptied when it is full. */
const SIGNING_KEYS_MAX = 256;
/** Per secret string: its two HMAC keys, ready (held in memory as the secret itself is; never logged). */
const signingKeyCache = new Map<string, { readonly legacy: KeyObject; readonly standard: KeyObject }>();

/**
 * The two HMAC keys of a secret as `KeyObject`s, made once per secret: HMAC with a ready
 * KeyObject costs less than with the string (UTF-8 encoded again each time) or a Buffer decoded
 * again each time. A rotated secret is a new string, so a new entry.
 */
function signingKeys(secret: string): { readonly legacy: KeyObject; readonly standard: KeyObject } {
  let keys = signingKeyCache.get(secret);
  if (keys) return keys;
  keys = { legacy: createSecretKey(Buffer.from(secret, 'utf8')), standard: createSecretKey(standardWebhooksKey(secret)) };
  if (signingKeyCache.size >= SIGNING_KEYS_MAX) signingKeyCache.clear();
  signingKeyCache.set(secret, keys);
  return keys;
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
