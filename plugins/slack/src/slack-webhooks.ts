// Slack Events API deliveries: request signing (v0), events, and the URL verification handshake.
// https://api.slack.com/authentication/verifying-requests-from-slack, https://api.slack.com/apis/events-api
import { defineWebhookManager, hmacSha256Hex, safeEqual, type WebhookDelivery, type WebhookEvent } from '@blockyard/plugin-sdk';

/** Requests older (or further in the future) than this are refused: they may be replays. */
export const MAX_REQUEST_AGE_S = 5 * 60;

/**
 * True when `X-Slack-Signature` is `v0=` + the hex HMAC-SHA256, with the app's signing secret,
 * of `v0:{X-Slack-Request-Timestamp}:{raw body}`, and the timestamp is within five minutes of now.
 */
export function verifySlackSignature(delivery: WebhookDelivery, secret: string): boolean {
  const timestamp = delivery.headers['x-slack-request-timestamp'];
  const signature = delivery.headers['x-slack-signature'];
  if (!secret || typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > MAX_REQUEST_AGE_S) return false;
  const base = Buffer.concat([Buffer.from(`v0:${timestamp}:`, 'utf8'), delivery.rawBody]);
  return safeEqual(signature, `v0=${hmacSha256Hex(secret, base)}`);
}

interface EventsApiBody {
  type?: unknown;
  challenge?: unknown;
  event_id?: unknown;
  event?: { type?: unknown } | null;
}

function bodyOf(delivery: WebhookDelivery): EventsApiBody | null {
  let body = delivery.body;
  if (body === undefined || body === null || typeof body === 'string') {
    try {
      body = JSON.parse(delivery.rawBody.toString('utf8'));
    } catch {
      return null;
    }
  }
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as EventsApiBody) : null;
}

/**
 * The event of an `event_callback` delivery: typed by its `event.type` (message, app_mention
 * ...), identified by `event_id` (Slack retries with the same id), with the whole envelope as
 * payload. `url_verification` and `app_rate_limited` deliveries carry no event.
 */
export function slackEvents(delivery: WebhookDelivery): WebhookEvent[] {
  const body = bodyOf(delivery);
  if (!body || body.type !== 'event_callback' || !body.event || typeof body.event.type !== 'string') return [];
  const event: WebhookEvent = { type: body.event.type, payload: body };
  if (typeof body.event_id === 'string') event.deliveryId = body.event_id;
  return [event];
}

/**
 * The `challenge` of a `url_verification` delivery, which the server must answer with (as
 * text, or `{ "challenge": ... }`) for Slack to accept the request URL; null for other deliveries.
 */
export function slackUrlVerificationChallenge(delivery: WebhookDelivery): string | null {
  const body = bodyOf(delivery);
  return body?.type === 'url_verification' && typeof body.challenge === 'string' ? body.challenge : null;
}

/** Manual mode: the user pastes the request URL into the app's Event Subscriptions and the signing secret here. */
export const slackWebhooks = defineWebhookManager({
  verify: verifySlackSignature,
  events: slackEvents,
  /** Slack checks the request URL with a signed url_verification delivery, answered with its challenge. */
  handshake(delivery) {
    const challenge = slackUrlVerificationChallenge(delivery);
    return challenge === null ? null : { body: { challenge } };
  },
});
