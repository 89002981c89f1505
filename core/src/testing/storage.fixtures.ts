import type { ApiKey } from '../api-key/api-key.js';
import type { Credential } from '../credential/credential.js';
import type { Execution } from '../execution/execution.js';
import type { User } from '../user/user.js';

let sequence = 0;

/** A unique suffix, so that fixtures made in one test never collide. */
export function uniqueSuffix(): string {
  sequence += 1;
  return `${Date.now().toString(36)}-${sequence}`;
}

/** A date with millisecond precision, `offsetMs` after a fixed instant. */
export function fixedDate(offsetMs = 0): Date {
  return new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123) + offsetMs);
}

export function userFixture(overrides: Partial<User> = {}): User {
  const suffix = uniqueSuffix();
  return {
    id: `user-${suffix}`,
    email: `user-${suffix}@example.org`,
    name: 'Zoë Ångström 李雷 🚀',
    createdAt: fixedDate(),
    ...overrides,
  };
}

export function apiKeyFixture(overrides: Partial<ApiKey> = {}): ApiKey {
  const suffix = uniqueSuffix();
  return {
    id: `key-${suffix}`,
    userId: `user-${suffix}`,
    name: 'CI key — ünïcødé ✓',
    prefix: 'byk_a1b2c3',
    hash: `hash-${suffix}`,
    scopes: ['READ_BLOCK', 'EXECUTE_BLOCK'],
    createdAt: fixedDate(),
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
    ...overrides,
  };
}

/** Inputs that exercise JSON: nesting, unicode, escapes, nulls, numbers, booleans, empties. */
export function richInputs(): Record<string, unknown> {
  return {
    text: 'héllo 🌍 名前 مرحبا',
    escapes: 'line1\nline2\t"quoted" \\ back/slash',
    nothing: null,
    flag: false,
    count: -42,
    ratio: 0.125,
    big: 9007199254740991,
    list: [1, 'two', null, { three: [3, { deep: true }] }],
    nested: { a: { b: { c: { d: 'bottom', e: [] } } }, empty: {} },
  };
}

export function executionFixture(overrides: Partial<Execution> = {}): Execution {
  const suffix = uniqueSuffix();
  return {
    id: `exec-${suffix}`,
    userId: `user-${suffix}`,
    blockId: 'example.echo',
    status: 'queued',
    inputs: { message: 'hi' },
    outputs: {},
    error: null,
    costUsd: 0,
    attempts: 0,
    createdAt: fixedDate(),
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

export function credentialFixture(overrides: Partial<Credential> = {}): Credential {
  const suffix = uniqueSuffix();
  return {
    id: `cred-${suffix}`,
    userId: `user-${suffix}`,
    provider: 'github',
    kind: 'oauth2',
    title: 'Work GitHub — ünïcødé ✓',
    scopes: ['github:repo.read', 'github:issues.write'],
    status: 'active',
    expiresAt: null,
    secret: {
      keyId: 'k1',
      nonce: `bm9uY2Ut${suffix}`,
      ciphertext: `Y2lwaGVydGV4dC0${suffix}+/=`,
      tag: `dGFnLQ==${suffix}`,
    },
    createdAt: fixedDate(),
    updatedAt: fixedDate(),
    ...overrides,
  };
}
