import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A browser session. Only the SHA-256 of its id is stored; the id itself lives in the cookie. */
export interface Session {
  /** Hex SHA-256 of the session id. */
  readonly idHash: string;
  readonly userId: string;
  /** The token every form post of this session carries. */
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastSeenAt: Date;
}

/** A random opaque token (256 bits, base64url). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Constant-time equality of two strings (false when either is missing). */
export function tokensEqual(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
