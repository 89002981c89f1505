import type { ContextFetch } from '../outbound/outbound-http.port.js';

/** An inbound webhook delivery as the server received it. */
export interface WebhookDelivery {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The exact bytes received: signatures are computed over them. */
  rawBody: Buffer;
  /** The body parsed as JSON (or form fields), when it could be. */
  body: unknown;
}

/** One event a delivery carries, for the trigger blocks that listen to its type. */
export interface WebhookEvent {
  type: string;
  payload: unknown;
  /** The provider's delivery id, to drop retried deliveries. */
  deliveryId?: string;
}

/** How a provider's webhooks are set up, checked and read. Plugins export one per provider. */
export interface WebhookManager {
  /** True when the delivery is signed with `secret` by the provider's real scheme. */
  verify(delivery: WebhookDelivery, secret: string): boolean;
  /** The events in a verified delivery. */
  events(delivery: WebhookDelivery): WebhookEvent[];
  /**
   * For a verified delivery by which the provider only checks the endpoint (GitHub's `ping`,
   * Slack's `url_verification`): the answer it expects (status default 200). It starts nothing.
   * Null for other deliveries.
   */
  handshake?(delivery: WebhookDelivery): { status?: number; body: unknown } | null;
  /** Registers a webhook at the provider (auto mode); returns its id there. */
  register?(context: { fetch: ContextFetch; url: string; secret: string; events: string[]; config: Record<string, unknown> }): Promise<{ externalId: string }>;
  /** Removes a webhook registered by `register`. */
  deregister?(context: { fetch: ContextFetch; externalId: string; config: Record<string, unknown> }): Promise<void>;
}
