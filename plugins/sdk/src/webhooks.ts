import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookManager } from '@blockyard/core';

export type { WebhookDelivery, WebhookEvent, WebhookManager } from '@blockyard/core';

export function defineWebhookManager(manager: WebhookManager): WebhookManager {
  if (typeof manager?.verify !== 'function' || typeof manager.events !== 'function') throw new TypeError('a webhook manager needs verify() and events()');
  return manager;
}

/** HMAC-SHA256 of `data` with `secret`, hex. */
export function hmacSha256Hex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** Compares two strings in constant time (for signatures). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
