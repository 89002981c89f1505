import { randomBytes } from 'node:crypto';
import type { EncryptedSecret, SecretCipher } from '../credential/secret-cipher.port.js';
import { UnexpectedError } from '../errors/domain.errors.js';

/** auto: the server registered the webhook at the provider; manual: the user pasted URL and secret there. */
export type WebhookMode = 'auto' | 'manual';

/** registering: stored, being set up at the provider (auto mode); active: set up. Both receive deliveries. */
export type WebhookStatus = 'registering' | 'active';

/**
 * An activated agent's inbound webhook: deliveries to `/webhooks/:provider/:id`, signed with
 * its secret, fire the agent's trigger node. One per agent.
 */
export interface WebhookRegistration {
  readonly id: string;
  readonly userId: string;
  readonly agentId: string;
  /** The agent's trigger node, and the block it ran when the agent was activated. */
  readonly triggerNodeId: string;
  readonly blockId: string;
  readonly provider: string;
  /** The event types that start the agent (the trigger block's declaration). */
  readonly events: readonly string[];
  readonly mode: WebhookMode;
  /** The signing secret, sealed like credential secrets (the registration id is its associated data). */
  readonly secret: EncryptedSecret;
  /** The provider settings it was registered with (e.g. owner and repo); needed to deregister. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The credential it was registered through (auto mode), null for the system credential or none. */
  readonly credentialId: string | null;
  /** Its id at the provider (auto mode, once registered). */
  readonly externalId: string | null;
  readonly status: WebhookStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A delivery received for a registration, kept so that a provider's retry starts nothing new. */
export interface WebhookDeliveryRecord {
  readonly webhookId: string;
  /** The provider's delivery id (GitHub X-GitHub-Delivery, Slack event_id ...). */
  readonly deliveryId: string;
  readonly eventType: string;
  /** The execution it started; null until started. */
  readonly executionId: string | null;
  readonly receivedAt: Date;
}

/** A new random signing secret: 32 bytes, base64url. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

const associatedData = (webhookId: string) => `webhook:${webhookId}`;

/** Seals a webhook's signing secret, bound to the webhook's id. */
export function sealWebhookSecret(cipher: SecretCipher, webhookId: string, secret: string): EncryptedSecret {
  return cipher.encrypt(secret, associatedData(webhookId));
}

/** Opens a registration's signing secret; fails naming the webhook (never the secret) when it cannot. */
export function openWebhookSecret(cipher: SecretCipher, registration: WebhookRegistration): string {
  try {
    return cipher.decrypt(registration.secret, associatedData(registration.id));
  } catch (e) {
    throw new UnexpectedError(`the secret of webhook ${registration.id} cannot be decrypted (key ${registration.secret.keyId}): ${(e as Error).message}`);
  }
}

/** Where a provider delivers a registration's events. */
export function webhookPath(provider: string, webhookId: string): string {
  return `/webhooks/${encodeURIComponent(provider)}/${encodeURIComponent(webhookId)}`;
}
