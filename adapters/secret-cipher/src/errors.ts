import { DomainError } from '@blockyard/core';

/**
 * A secret that cannot be opened. It is a server fault (kind `unexpected`), never a reason to
 * hand back an empty secret. Messages name the key id only, never key material or plaintext.
 */
export class SecretCipherError extends DomainError {
  constructor(
    readonly keyId: string,
    message: string,
  ) {
    super('unexpected', message);
  }
}

/** The secret was sealed by a key the ring does not hold (lost, or removed too early on rotation). */
export class SecretKeyMissingError extends SecretCipherError {
  constructor(keyId: string, available: readonly string[]) {
    super(
      keyId,
      `secret was sealed with encryption key "${keyId}", which the key ring does not hold ` +
        `(it holds: ${available.map((id) => `"${id}"`).join(', ')}); add that key to BLOCKYARD_ENCRYPTION_KEYS`,
    );
  }
}

/** The key is there but the secret does not authenticate: tampered, malformed, or bound to other associated data. */
export class SecretDecryptionError extends SecretCipherError {
  constructor(keyId: string, reason: string) {
    super(keyId, `secret sealed with encryption key "${keyId}" cannot be decrypted: ${reason}`);
  }
}

/** A key ring value (BLOCKYARD_ENCRYPTION_KEYS or the key file) that is malformed or unsafe. */
export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}
