import type { EncryptedSecret } from '../credential/secret-cipher.port.js';
import type { WebhookDeliveryRecord, WebhookRegistration } from './webhook-registration.js';

/**
 * Agents' webhook registrations (one per agent) and the deliveries they received. A delivery is
 * recorded at most once per (webhook id, delivery id): that is what keeps a provider's retry
 * from starting a second execution, also with many server processes.
 */
export interface WebhookRepository {
  /** Stores a registration. A duplicate id, or a second registration for the same agent, is a ConflictError. */
  create(registration: WebhookRegistration): Promise<void>;
  /** The registration, or null. */
  get(id: string): Promise<WebhookRegistration | null>;
  /** The agent's registration, or null when the agent is not activated. */
  getByAgent(agentId: string): Promise<WebhookRegistration | null>;
  /**
   * Marks a `registering` registration `active` with its id at the provider, at `at`. False
   * (and nothing changes) when it is gone or not registering.
   */
  markActive(id: string, externalId: string | null, at: Date): Promise<boolean>;
  /**
   * Replaces the registration's sealed secret with `secret` if the stored one is still
   * `expected` (all its parts): a compare-and-set, so of concurrent updates from one expected
   * secret exactly one answers true. False, and nothing changes, when the secret is another or
   * the registration is gone. Nothing else of the registration changes, updatedAt included:
   * re-sealing (key rotation) changes nothing a user sees.
   */
  updateSecret(id: string, secret: EncryptedSecret, expected: EncryptedSecret): Promise<boolean>;
  /** Up to `limit` registrations ordered by id, those after `afterId` (null: from the first); for paging through all. */
  listAll(afterId: string | null, limit: number): Promise<WebhookRegistration[]>;
  /** Removes the registration with its delivery records; false when it is unknown. */
  delete(id: string): Promise<boolean>;
  /**
   * Records a delivery (its `executionId` null) unless its (webhookId, deliveryId) is recorded
   * already: true when this call recorded it, false when it was there (nothing changes). Of
   * concurrent calls for one delivery exactly one answers true. An unknown webhook is a NotFoundError.
   */
  recordDelivery(record: Omit<WebhookDeliveryRecord, 'executionId'>): Promise<boolean>;
  /** A recorded delivery, or null. */
  getDelivery(webhookId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null>;
  /** Notes the execution a recorded delivery started; false when the delivery is not recorded. */
  setDeliveryExecution(webhookId: string, deliveryId: string, executionId: string): Promise<boolean>;
  /** Forgets a recorded delivery (its execution could not start, so a retry may start one); false when not recorded. */
  deleteDelivery(webhookId: string, deliveryId: string): Promise<boolean>;
  /**
   * Forgets every delivery, of every registration, received before `before` (not at or after
   * it) and answers how many. A provider's retry of a forgotten delivery would start a new
   * execution, so `before` should lie well beyond the providers' retry windows.
   */
  pruneDeliveries(before: Date): Promise<number>;
}
export const WebhookRepository = Symbol.for('blockyard/WebhookRepository');
