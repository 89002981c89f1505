import type { Credential } from '../credential/credential.js';
import { openCredentialSecret, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { EncryptedSecret, SecretCipher } from '../credential/secret-cipher.port.js';
import type { Clock } from '../system/clock.port.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import { openWebhookSecret, sealWebhookSecret, type WebhookRegistration } from '../webhook/webhook-registration.js';

/** A secret that could not be re-encrypted, named by the credential or webhook holding it, and why. */
export interface RotationFailure {
  /** The credential's or the webhook's id. */
  readonly id: string;
  /** The key that sealed it. */
  readonly keyId: string;
  readonly reason: string;
}

/** What a run did to one kind of stored secret. */
export interface RotationTally {
  /** Secrets seen. */
  readonly scanned: number;
  /** Re-encrypted under the active key by this run (or, meanwhile, by a concurrent one). */
  readonly rotated: number;
  /** Already sealed with the active key. */
  readonly current: number;
  /** Changed by someone else meanwhile and re-read (each counted once per retry). */
  readonly retried: number;
  /** Deleted by someone else meanwhile. */
  readonly vanished: number;
  readonly failures: readonly RotationFailure[];
}

export interface RotationReport {
  /** The key every secret is now sealed with. */
  readonly activeKeyId: string;
  /** Credential secrets. */
  readonly credentials: RotationTally;
  /** Webhook signing secrets. */
  readonly webhooks: RotationTally;
}

export interface RotationOptions {
  /** Records read per page. Default 100. */
  pageSize?: number;
  /** Tries per record when it keeps changing under us. Default 5. */
  maxAttempts?: number;
}

/** How a run pages through, re-seals and compare-and-sets one kind of record holding a sealed secret. */
interface SealedRecords<T extends { readonly id: string; readonly secret: EncryptedSecret }> {
  listAll(afterId: string | null, limit: number): Promise<T[]>;
  get(id: string): Promise<T | null>;
  /** The record with its secret sealed under the active key; throws, naming the record, when it cannot be opened. */
  reseal(record: T): T;
  /** Stores `resealed` if `read` is still what is stored; false, changing nothing, otherwise. */
  replace(resealed: T, read: T): Promise<boolean>;
}

/**
 * Re-encrypts every stored secret under the cipher's active key: credential secrets, then
 * webhook signing secrets, page by page, while the server may keep running. Each write is a
 * compare-and-set (a credential on `updatedAt`, a webhook on its sealed secret), so a record
 * that changed meanwhile (a token refresh) is re-read and re-encrypted from its new state,
 * never overwritten with a stale secret. A secret that cannot be opened (its key is not in the
 * ring, or it was tampered with) is reported, named by credential or webhook id, and the run
 * goes on.
 */
export class CredentialKeyRotation {
  constructor(
    private readonly deps: {
      credentials: CredentialRepository;
      webhooks: WebhookRepository;
      cipher: SecretCipher;
      clock: Clock;
    },
  ) {}

  async rotate(options: RotationOptions = {}): Promise<RotationReport> {
    const { credentials, webhooks, cipher, clock } = this.deps;
    const credentialRecords: SealedRecords<Credential> = {
      listAll: (afterId, limit) => credentials.listAll(afterId, limit),
      get: (id) => credentials.get(id),
      reseal: (credential) => ({
        ...credential,
        secret: sealCredentialSecret(cipher, credential.id, openCredentialSecret(cipher, credential)),
        // A new updatedAt, strictly later, so a concurrent writer holding the old one loses its compare-and-set.
        updatedAt: new Date(Math.max(clock.now().getTime(), credential.updatedAt.getTime() + 1)),
      }),
      replace: (resealed, read) => credentials.update(resealed, read.updatedAt),
    };
    const webhookRecords: SealedRecords<WebhookRegistration> = {
      listAll: (afterId, limit) => webhooks.listAll(afterId, limit),
      get: (id) => webhooks.get(id),
      reseal: (registration) => ({ ...registration, secret: sealWebhookSecret(cipher, registration.id, openWebhookSecret(cipher, registration)) }),
      replace: (resealed, read) => webhooks.updateSecret(resealed.id, resealed.secret, read.secret),
    };
    return {
      activeKeyId: cipher.activeKeyId,
      credentials: await this.#rotateAll(credentialRecords, options),
      webhooks: await this.#rotateAll(webhookRecords, options),
    };
  }

  async #rotateAll<T extends { readonly id: string; readonly secret: EncryptedSecret }>(records: SealedRecords<T>, options: RotationOptions): Promise<RotationTally> {
    const { activeKeyId } = this.deps.cipher;
    const pageSize = options.pageSize ?? 100;
    const maxAttempts = options.maxAttempts ?? 5;
    const counts = { scanned: 0, rotated: 0, current: 0, retried: 0, vanished: 0 };
    const failures: RotationFailure[] = [];

    let after: string | null = null;
    for (;;) {
      const page = await records.listAll(after, pageSize);
      if (!page.length) break;
      after = page[page.length - 1]!.id;
      for (const listed of page) {
        counts.scanned++;
        let record: T | null = listed;
        for (let attempt = 1; ; attempt++) {
          if (!record) {
            counts.vanished++;
            break;
          }
          if (record.secret.keyId === activeKeyId) {
            if (attempt === 1) counts.current++;
            else counts.rotated++; // someone else re-sealed it with the active key meanwhile
            break;
          }
          let resealed: T;
          try {
            resealed = records.reseal(record);
          } catch (e) {
            failures.push({ id: record.id, keyId: record.secret.keyId, reason: (e as Error).message });
            break;
          }
          if (await records.replace(resealed, record)) {
            counts.rotated++;
            break;
          }
          if (attempt >= maxAttempts) {
            failures.push({ id: record.id, keyId: record.secret.keyId, reason: `changed ${attempt} times while being re-encrypted; run rotate again` });
            break;
          }
          counts.retried++;
          record = await records.get(record.id);
        }
      }
      if (page.length < pageSize) break;
    }
    return { ...counts, failures };
  }
}
