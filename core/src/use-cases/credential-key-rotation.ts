import type { Credential } from '../credential/credential.js';
import { openCredentialSecret, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { SecretCipher } from '../credential/secret-cipher.port.js';
import type { Clock } from '../system/clock.port.js';

/** A credential whose secret could not be re-encrypted, and why. */
export interface RotationFailure {
  readonly credentialId: string;
  /** The key that sealed it. */
  readonly keyId: string;
  readonly reason: string;
}

export interface RotationReport {
  /** The key every secret is now sealed with. */
  readonly activeKeyId: string;
  /** Credentials seen. */
  readonly scanned: number;
  /** Re-encrypted under the active key by this run. */
  readonly rotated: number;
  /** Already sealed with the active key. */
  readonly current: number;
  /** Changed by someone else meanwhile and re-read (each counted once per retry). */
  readonly retried: number;
  /** Deleted by someone else meanwhile. */
  readonly vanished: number;
  readonly failures: readonly RotationFailure[];
}

export interface RotationOptions {
  /** Credentials read per page. Default 100. */
  pageSize?: number;
  /** Tries per credential when it keeps changing under us. Default 5. */
  maxAttempts?: number;
}

/**
 * Re-encrypts every credential secret under the cipher's active key, page by page, while the
 * server may keep running: each write is a compare-and-set on `updatedAt`, so a credential that
 * changed meanwhile (a token refresh) is re-read and re-encrypted from its new state, never
 * overwritten with a stale secret. A secret that cannot be opened (its key is not in the ring,
 * or it was tampered with) is reported, named by credential id, and the run goes on.
 */
export class CredentialKeyRotation {
  constructor(
    private readonly deps: {
      credentials: CredentialRepository;
      cipher: SecretCipher;
      clock: Clock;
    },
  ) {}

  async rotate(options: RotationOptions = {}): Promise<RotationReport> {
    const { credentials, cipher } = this.deps;
    const pageSize = options.pageSize ?? 100;
    const maxAttempts = options.maxAttempts ?? 5;
    const counts = { scanned: 0, rotated: 0, current: 0, retried: 0, vanished: 0 };
    const failures: RotationFailure[] = [];

    let after: string | null = null;
    for (;;) {
      const page = await credentials.listAll(after, pageSize);
      if (!page.length) break;
      after = page[page.length - 1]!.id;
      for (const listed of page) {
        counts.scanned++;
        let credential: Credential | null = listed;
        for (let attempt = 1; ; attempt++) {
          if (!credential) {
            counts.vanished++;
            break;
          }
          if (credential.secret.keyId === cipher.activeKeyId) {
            if (attempt === 1) counts.current++;
            else counts.rotated++; // someone else re-sealed it with the active key meanwhile
            break;
          }
          let resealed: Credential;
          try {
            resealed = this.reseal(credential);
          } catch (e) {
            failures.push({ credentialId: credential.id, keyId: credential.secret.keyId, reason: (e as Error).message });
            break;
          }
          if (await credentials.update(resealed, credential.updatedAt)) {
            counts.rotated++;
            break;
          }
          if (attempt >= maxAttempts) {
            failures.push({ credentialId: credential.id, keyId: credential.secret.keyId, reason: `changed ${attempt} times while being re-encrypted; run rotate again` });
            break;
          }
          counts.retried++;
          credential = await credentials.get(credential.id);
        }
      }
      if (page.length < pageSize) break;
    }
    return { activeKeyId: cipher.activeKeyId, ...counts, failures };
  }

  private reseal(credential: Credential): Credential {
    const { cipher, clock } = this.deps;
    const secret = sealCredentialSecret(cipher, credential.id, openCredentialSecret(cipher, credential));
    // A new updatedAt, strictly later, so a concurrent writer holding the old one loses its compare-and-set.
    const updatedAt = new Date(Math.max(clock.now().getTime(), credential.updatedAt.getTime() + 1));
    return { ...credential, secret, updatedAt };
  }
}
