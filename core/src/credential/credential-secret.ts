import type { ResolvedCredential } from '../block/block.js';
import { UnexpectedError, ValidationError } from '../errors/domain.errors.js';
import type { Credential, CredentialKind } from './credential.js';
import type { EncryptedSecret, SecretCipher } from './secret-cipher.port.js';

/** The secret fields of each credential kind, as a caller supplies them. */
export type CredentialSecretFields =
  | { api_key: string }
  | { access_token: string; refresh_token?: string; scopes?: string[] }
  | { username: string; password: string }
  | { host: string; headers: Record<string, string> };

/** Checks the secret fields a kind needs; an invalid_input naming what is missing or wrong. */
export function credentialFromFields(kind: CredentialKind, fields: Record<string, unknown>): ResolvedCredential & { refresh_token?: string } {
  const str = (name: string): string => {
    const v = fields[name];
    if (typeof v !== 'string' || v.length === 0 || v.length > 16_384) throw new ValidationError(`a ${kind} credential needs a non-empty string ${name}`, [{ path: `/secret/${name}`, message: 'is required' }]);
    return v;
  };
  switch (kind) {
    case 'api_key':
      return { kind, api_key: str('api_key') };
    case 'oauth2': {
      const scopes = Array.isArray(fields.scopes) ? fields.scopes.filter((s): s is string => typeof s === 'string') : [];
      const refresh = typeof fields.refresh_token === 'string' && fields.refresh_token ? { refresh_token: fields.refresh_token } : {};
      return { kind, access_token: str('access_token'), scopes, ...refresh };
    }
    case 'user_password':
      return { kind, username: str('username'), password: str('password') };
    case 'host_scoped': {
      const host = str('host');
      const headers = fields.headers;
      if (!headers || typeof headers !== 'object' || Array.isArray(headers) || !Object.values(headers).every((v) => typeof v === 'string')) {
        throw new ValidationError('a host_scoped credential needs headers: an object of strings', [{ path: '/secret/headers', message: 'must be an object of strings' }]);
      }
      return { kind, host, headers: headers as Record<string, string> };
    }
  }
}

/** Seals a credential's secret, bound to its id (the id is authenticated as associated data). */
export function sealCredentialSecret(cipher: SecretCipher, credentialId: string, secret: ResolvedCredential & { refresh_token?: string }): EncryptedSecret {
  return cipher.encrypt(JSON.stringify(secret), credentialId);
}

/**
 * Opens a stored credential's secret for one run. Fails loudly, naming the credential, when its
 * key is missing or the secret does not open: never an empty credential.
 */
export function openCredentialSecret(cipher: SecretCipher, credential: Credential): ResolvedCredential & { refresh_token?: string } {
  let plaintext: string;
  try {
    plaintext = cipher.decrypt(credential.secret, credential.id);
  } catch (e) {
    throw new UnexpectedError(`credential ${credential.id} cannot be decrypted (key ${credential.secret.keyId}): ${(e as Error).message}`);
  }
  const parsed = JSON.parse(plaintext) as ResolvedCredential & { refresh_token?: string };
  if (parsed?.kind !== credential.kind) throw new UnexpectedError(`credential ${credential.id} holds a ${String(parsed?.kind)} secret, not ${credential.kind}`);
  return parsed;
}
