import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptedSecret, SecretCipher } from '@blockyard/core';
import { SecretDecryptionError, SecretKeyMissingError } from './errors.js';
import type { KeyRing } from './key-ring.js';

const ALGORITHM = 'aes-256-gcm';
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * AES-256-GCM over a key ring: a fresh random 96-bit nonce per secret, a 128-bit tag, optional
 * associated data (e.g. the credential id) authenticated with it. The active key seals; any key
 * of the ring opens what it sealed, so rotation is: put the new key first, keep the old ones
 * until every secret has been re-encrypted.
 */
export class AesGcmSecretCipher implements SecretCipher {
  constructor(private readonly ring: KeyRing) {}

  get activeKeyId(): string {
    return this.ring.activeKeyId;
  }

  encrypt(plaintext: string, associatedData?: string): EncryptedSecret {
    if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string');
    const keyId = this.ring.activeKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.ring.key(keyId)!, nonce, { authTagLength: TAG_BYTES });
    if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId,
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  decrypt(secret: EncryptedSecret, associatedData?: string): string {
    const keyId = secret.keyId;
    const key = this.ring.key(keyId);
    if (key === undefined) throw new SecretKeyMissingError(keyId, this.ring.keyIds);
    const nonce = decodeBase64(secret.nonce);
    const tag = decodeBase64(secret.tag);
    const ciphertext = decodeBase64(secret.ciphertext);
    if (nonce?.length !== NONCE_BYTES) throw new SecretDecryptionError(keyId, `the nonce is not ${NONCE_BYTES} bytes of base64`);
    if (tag?.length !== TAG_BYTES) throw new SecretDecryptionError(keyId, `the tag is not ${TAG_BYTES} bytes of base64`);
    if (ciphertext === undefined) throw new SecretDecryptionError(keyId, 'the ciphertext is not base64');
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(ciphertext);
    try {
      return Buffer.concat([plaintext, decipher.final()]).toString('utf8');
    } catch {
      plaintext.fill(0); // unauthenticated output: never let it escape
      throw new SecretDecryptionError(
        keyId,
        'authentication failed (the secret was altered, or it is bound to different associated data)',
      );
    }
  }
}

/** Strict base64: the text must be exactly what its bytes encode to. */
function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
