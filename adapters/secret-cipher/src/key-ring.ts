import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyRingError } from './errors.js';

/** AES-256: every key is exactly this many bytes. */
export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface KeyRingEntry {
  readonly id: string;
  /** Exactly 32 bytes. */
  readonly key: Uint8Array;
}

/**
 * The encryption keys, in order: the first seals new secrets, every one opens what it sealed.
 * Key material lives in private fields as KeyObjects: it never shows in logs, `inspect` or JSON.
 */
export class KeyRing {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #ids: readonly string[];

  private constructor(keys: Map<string, KeyObject>) {
    this.#keys = keys;
    this.#ids = [...keys.keys()];
  }

  /**
   * Parses `kid1:base64key,kid2:base64key` (commas or newlines between entries; the first is
   * active). `source` names where the value came from in error messages.
   */
  static parse(value: string, source = 'key ring'): KeyRing {
    const entries = value
      .split(/[,\r\n]/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 0) throw new KeyRingError(`${source} is empty: expected "kid:base64key[,kid:base64key...]"`);
    const keys = new Map<string, KeyObject>();
    entries.forEach((entry, index) => {
      const position = `${source} entry ${index + 1}`;
      const colon = entry.indexOf(':');
      // The text of a malformed entry is never echoed: it may be (or contain) key material.
      if (colon < 0) throw new KeyRingError(`${position} has no key id: expected "kid:base64key"`);
      const id = entry.slice(0, colon).trim();
      const encoded = entry.slice(colon + 1).trim();
      if (!KEY_ID.test(id)) {
        throw new KeyRingError(`${position}: the key id must be 1-64 characters of A-Z a-z 0-9 _ . -`);
      }
      if (keys.has(id)) throw new KeyRingError(`${position}: key id "${id}" appears more than once`);
      const key = decodeKey(encoded);
      if (key === undefined) throw new KeyRingError(`${position} (key id "${id}"): the key is not valid base64`);
      if (key.length !== KEY_BYTES) {
        key.fill(0);
        throw new KeyRingError(`${position} (key id "${id}"): the key is ${key.length} bytes, AES-256 needs exactly ${KEY_BYTES}`);
      }
      keys.set(id, createSecretKey(key));
      key.fill(0);
    });
    return new KeyRing(keys);
  }

  /** A ring of the given keys (first active); same checks as `parse`. */
  static of(entries: readonly KeyRingEntry[]): KeyRing {
    return KeyRing.parse(entries.map(({ id, key }) => `${id}:${Buffer.from(key).toString('base64')}`).join(','), 'key list');
  }

  /** A ring with one fresh random key, e.g. for tests. */
  static generate(id: string = newKeyId()): KeyRing {
    return KeyRing.parse(formatKey(id, randomBytes(KEY_BYTES)), 'generated key');
  }

  /** The id of the key new secrets are sealed with. */
  get activeKeyId(): string {
    return this.#ids[0]!;
  }

  /** Every key id, the active one first. */
  get keyIds(): readonly string[] {
    return this.#ids;
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /** The key for `keyId`, for the cipher; undefined if the ring does not hold it. */
  key(keyId: string): KeyObject | undefined {
    return this.#keys.get(keyId);
  }

  toString(): string {
    return `KeyRing(${this.#ids.join(', ')})`;
  }

  toJSON(): { keyIds: readonly string[] } {
    return { keyIds: this.#ids };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `k-<yyyymmdd>-<6 hex>` (UTC date). */
export function newKeyId(now: Date = new Date()): string {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k-${date}-${randomBytes(3).toString('hex')}`;
}

/** One `kid:base64key` entry. */
export function formatKey(id: string, key: Uint8Array): string {
  return `${id}:${Buffer.from(key).toString('base64')}`;
}

function decodeKey(encoded: string): Buffer | undefined {
  if (encoded === '') return undefined;
  if (BASE64.test(encoded)) return Buffer.from(encoded, 'base64');
  if (BASE64URL.test(encoded) && encoded.length % 4 !== 1) return Buffer.from(encoded, 'base64url');
  return undefined;
}
