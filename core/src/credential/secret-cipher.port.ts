/** A secret as stored: AES-256-GCM ciphertext with its nonce and tag, and the id of the key that sealed it. */
export interface EncryptedSecret {
  /** Id of the key in the key ring (BLOCKYARD_ENCRYPTION_KEYS `kid:base64key`). */
  readonly keyId: string;
  /** base64 */
  readonly nonce: string;
  /** base64 */
  readonly ciphertext: string;
  /** base64 GCM authentication tag */
  readonly tag: string;
}

/**
 * Encrypts and decrypts credential secrets. The active key seals; every key of the ring can
 * open what it sealed. A secret sealed by a key the ring does not hold, or tampered with, is an
 * error naming the key id (never an empty secret).
 */
export interface SecretCipher {
  /** The key new secrets are sealed with. */
  readonly activeKeyId: string;
  /** `associatedData` (e.g. the credential id) is authenticated but not encrypted. */
  encrypt(plaintext: string, associatedData?: string): EncryptedSecret;
  decrypt(secret: EncryptedSecret, associatedData?: string): string;
}
export const SecretCipher = Symbol.for('blockyard/SecretCipher');
