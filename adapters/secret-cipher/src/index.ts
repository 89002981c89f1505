export { AesGcmSecretCipher, NONCE_BYTES, TAG_BYTES } from './aes-gcm-secret-cipher.js';
export { KeyRing, KEY_BYTES, formatKey, newKeyId, type KeyRingEntry } from './key-ring.js';
export { loadOrCreateKeyRing, KEY_FILE_NAME, type LoadKeyRingOptions } from './key-file.js';
export { KeyRingError, SecretCipherError, SecretDecryptionError, SecretKeyMissingError } from './errors.js';
export { secretCipherModule } from './secret-cipher.module.js';
