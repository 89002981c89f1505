import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors/domain.errors.js';
import { isApiKeyScope, type ApiKeyScope } from './api-key-scope.js';

/** Every key starts with this, so a leaked key is easy to recognise in a scan. */
export const API_KEY_PREFIX = 'byk_';

export interface ApiKey {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  /** The first characters of the secret, shown in listings to tell keys apart. */
  readonly prefix: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  readonly hash: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A new random secret: `byk_` + 43 url-safe characters (256 bits). */
export function generateApiKeySecret(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function apiKeyMatches(key: ApiKey, secret: string): boolean {
  const a = Buffer.from(key.hash, 'hex');
  const b = Buffer.from(hashApiKeySecret(secret), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isApiKeyActive(key: ApiKey, now: Date): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt.getTime() > now.getTime());
}

/** Parses and checks a list of scope names; unknown ones are a ValidationError naming them. */
export function parseScopes(values: readonly string[]): ApiKeyScope[] {
  const cleaned = [...new Set(values.map((v) => v.trim()).filter(Boolean))];
  const unknown = cleaned.filter((v) => !isApiKeyScope(v));
  if (unknown.length) throw new ValidationError(`unknown scope(s): ${unknown.join(', ')}`);
  if (!cleaned.length) throw new ValidationError('at least one scope is required');
  return cleaned as ApiKeyScope[];
}
