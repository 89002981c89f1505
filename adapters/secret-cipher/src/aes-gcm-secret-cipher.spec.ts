import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Container } from 'inversify';
import { DomainError, SecretCipher, type EncryptedSecret } from '@blockyard/core';
import {
  AesGcmSecretCipher,
  KeyRing,
  KeyRingError,
  SecretDecryptionError,
  SecretKeyMissingError,
  formatKey,
  secretCipherModule,
} from './index.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ringA = KeyRing.of([{ id: 'A', key: keyA }]);
const ringBA = KeyRing.of([{ id: 'B', key: keyB }, { id: 'A', key: keyA }]);
const ringB = KeyRing.of([{ id: 'B', key: keyB }]);

/** Flips one bit of a base64 field. */
function flip(base64: string, byte = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[byte]! ^= 0x01;
  return bytes.toString('base64');
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('AesGcmSecretCipher', () => {
  const cipher = new AesGcmSecretCipher(ringA);

  describe('round trip', () => {
    for (const [name, plaintext] of [
      ['ascii', 'ghp_abcdefghijklmnop'],
      ['unicode', 'clé 🔑 秘密 — ünïcödé \u0000 end'],
      ['the empty string', ''],
      ['1 MB', 'x'.repeat(1024 * 1024 - 7) + 'ü€🔑'],
    ] as const) {
      it(`opens what it sealed: ${name}`, () => {
        const sealed = cipher.encrypt(plaintext);
        expect(sealed.keyId).to.equal('A');
        expect(cipher.decrypt(sealed)).to.equal(plaintext);
      });
    }

    it('with associated data', () => {
      const sealed = cipher.encrypt('token', 'cred-1');
      expect(cipher.decrypt(sealed, 'cred-1')).to.equal('token');
    });

    it('stores base64 fields of the right sizes and no plaintext', () => {
      const sealed = cipher.encrypt('super-secret-value');
      expect(Buffer.from(sealed.nonce, 'base64')).to.have.length(12);
      expect(Buffer.from(sealed.tag, 'base64')).to.have.length(16);
      expect(Buffer.from(sealed.ciphertext, 'base64')).to.have.length('super-secret-value'.length);
      expect(JSON.stringify(sealed)).not.to.contain('super-secret-value');
    });
  });

  it('uses a distinct nonce (and ciphertext) for every call', () => {
    const sealed = Array.from({ length: 200 }, () => cipher.encrypt('same plaintext'));
    expect(new Set(sealed.map((s) => s.nonce)).size).to.equal(200);
    expect(new Set(sealed.map((s) => s.ciphertext)).size).to.equal(200);
  });

  describe('associated data', () => {
    const sealed = cipher.encrypt('token', 'cred-1');
    for (const [name, aad] of [
      ['other associated data', 'cred-2'],
      ['no associated data', undefined],
    ] as const) {
      it(`fails with ${name}`, () => {
        const error = thrown(() => cipher.decrypt(sealed, aad));
        expect(error).to.be.instanceOf(SecretDecryptionError);
        expect(error.message).to.contain('"A"');
      });
    }

    it('fails when the secret had none and some is given', () => {
      const plain = cipher.encrypt('token');
      expect(() => cipher.decrypt(plain, 'cred-1')).to.throw(SecretDecryptionError);
    });
  });

  describe('tampering', () => {
    const sealed = cipher.encrypt('a secret long enough', 'cred-1');
    const cases: Record<string, EncryptedSecret> = {
      nonce: { ...sealed, nonce: flip(sealed.nonce) },
      'nonce (last byte)': { ...sealed, nonce: flip(sealed.nonce, 11) },
      ciphertext: { ...sealed, ciphertext: flip(sealed.ciphertext, 5) },
      tag: { ...sealed, tag: flip(sealed.tag, 15) },
      'truncated tag': { ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, 12).toString('base64') },
      'truncated ciphertext': { ...sealed, ciphertext: Buffer.from(sealed.ciphertext, 'base64').subarray(1).toString('base64') },
      'short nonce': { ...sealed, nonce: Buffer.from(sealed.nonce, 'base64').subarray(0, 8).toString('base64') },
      'non-base64 nonce': { ...sealed, nonce: '!!!not base64!!!' },
      'swapped nonce of another secret': { ...sealed, nonce: cipher.encrypt('x').nonce },
    };
    for (const [name, tampered] of Object.entries(cases)) {
      it(`fails on a tampered ${name}, naming the key id`, () => {
        const error = thrown(() => cipher.decrypt(tampered, 'cred-1'));
        expect(error).to.be.instanceOf(SecretDecryptionError);
        expect((error as SecretDecryptionError).keyId).to.equal('A');
        expect(error.message).to.contain('"A"');
        expect(error.message).not.to.contain('a secret');
        expect(DomainError.is(error, 'unexpected')).to.equal(true);
      });
    }

    it('still opens the untampered secret', () => {
      expect(cipher.decrypt(sealed, 'cred-1')).to.equal('a secret long enough');
    });
  });

  describe('rotation', () => {
    const sealedByA = new AesGcmSecretCipher(ringA).encrypt('old secret', 'cred-1');

    it('a ring B,A opens what A sealed and seals new secrets with B', () => {
      const rotated = new AesGcmSecretCipher(ringBA);
      expect(rotated.activeKeyId).to.equal('B');
      expect(rotated.decrypt(sealedByA, 'cred-1')).to.equal('old secret');
      const resealed = rotated.encrypt(rotated.decrypt(sealedByA, 'cred-1'), 'cred-1');
      expect(resealed.keyId).to.equal('B');
      expect(new AesGcmSecretCipher(ringB).decrypt(resealed, 'cred-1')).to.equal('old secret');
    });

    it('a ring with only B fails loudly on A\'s secrets, naming key id A', () => {
      const error = thrown(() => new AesGcmSecretCipher(ringB).decrypt(sealedByA, 'cred-1'));
      expect(error).to.be.instanceOf(SecretKeyMissingError);
      expect((error as SecretKeyMissingError).keyId).to.equal('A');
      expect(error.message).to.contain('"A"');
    });

    it('a same-named but different key fails as a decryption error, not an empty secret', () => {
      const impostor = new AesGcmSecretCipher(KeyRing.of([{ id: 'A', key: keyB }]));
      expect(() => impostor.decrypt(sealedByA, 'cred-1')).to.throw(SecretDecryptionError, '"A"');
    });
  });

  describe('secretCipherModule', () => {
    it('binds the SecretCipher port to the cipher', async () => {
      const container = new Container();
      await container.load(secretCipherModule(cipher));
      expect(container.get<SecretCipher>(SecretCipher)).to.equal(cipher);
    });
  });
});

describe('KeyRing', () => {
  const b64A = keyA.toString('base64');
  const b64B = keyB.toString('base64');

  it('parses kid:base64key entries, the first active', () => {
    const ring = KeyRing.parse(` k2:${b64B} , k1.old_v-1:${b64A} `);
    expect(ring.activeKeyId).to.equal('k2');
    expect(ring.keyIds).to.deep.equal(['k2', 'k1.old_v-1']);
    expect(ring.has('k1.old_v-1')).to.equal(true);
    expect(ring.has('k3')).to.equal(false);
  });

  it('accepts base64url keys and newline-separated entries', () => {
    const ring = KeyRing.parse(`a:${keyA.toString('base64url')}\nb:${b64B}\n`);
    expect(ring.keyIds).to.deep.equal(['a', 'b']);
    const sealed = new AesGcmSecretCipher(ring).encrypt('x');
    expect(new AesGcmSecretCipher(ringA).decrypt({ ...sealed, keyId: 'A' })).to.equal('x');
  });

  const bad: Record<string, [value: string, mentions: string]> = {
    'an empty value': ['', 'empty'],
    'only separators': [' , \n', 'empty'],
    'bad base64': [`k1:${b64A},k2:not*base64*at*all`, 'entry 2 (key id "k2")'],
    'a 31-byte key': [`k1:${randomBytes(31).toString('base64')}`, '31 bytes'],
    'a 33-byte key': [`k1:${randomBytes(33).toString('base64')}`, '33 bytes'],
    'an empty key': ['k1:', 'entry 1 (key id "k1")'],
    'a duplicate key id': [`k1:${b64A},k2:${b64B},k1:${b64B}`, 'key id "k1" appears more than once'],
    'a missing key id': [`${b64A}`, 'entry 1 has no key id'],
    'an empty key id': [`:${b64A}`, 'entry 1: the key id'],
    'a key id with bad characters': [`k 1/x:${b64A}`, 'entry 1: the key id'],
    'a key id over 64 characters': [`${'k'.repeat(65)}:${b64A}`, 'entry 1: the key id'],
  };
  for (const [name, [value, mentions]] of Object.entries(bad)) {
    it(`rejects ${name}, naming the entry but no key material`, () => {
      const error = thrown(() => KeyRing.parse(value, 'BLOCKYARD_ENCRYPTION_KEYS'));
      expect(error).to.be.instanceOf(KeyRingError);
      expect(error.message).to.contain('BLOCKYARD_ENCRYPTION_KEYS');
      expect(error.message).to.contain(mentions);
      expectNoKeyMaterial(error.message, value);
    });
  }

  it('never shows key material in toString, inspect or JSON', () => {
    const ring = KeyRing.parse(`k1:${b64A},k2:${b64B}`);
    for (const text of [String(ring), inspect(ring, { depth: 10, showHidden: true }), JSON.stringify(ring)]) {
      expect(text).to.contain('k1');
      expectNoKeyMaterial(text, `k1:${b64A},k2:${b64B}`);
    }
  });

  it('generate makes a one-key ring that seals and opens', () => {
    const ring = KeyRing.generate();
    expect(ring.activeKeyId).to.match(/^k-\d{8}-[0-9a-f]{6}$/);
    const cipher = new AesGcmSecretCipher(ring);
    expect(cipher.decrypt(cipher.encrypt('x'))).to.equal('x');
  });

  it('formatKey writes what parse reads', () => {
    expect(KeyRing.parse(formatKey('z', keyA)).keyIds).to.deep.equal(['z']);
  });
});

/** No base64/base64url/hex form of any key in `value` (nor an 8+ char slice of one) appears in `text`. */
function expectNoKeyMaterial(text: string, value: string): void {
  for (const entry of value.split(/[,\n]/)) {
    const encoded = entry.slice(entry.indexOf(':') + 1).trim();
    if (encoded.length < 8) continue;
    const bytes = Buffer.from(encoded, 'base64');
    for (const form of [encoded, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]) {
      for (let start = 0; start + 8 <= form.length; start += 4) {
        expect(text, `error message leaks key material`).not.to.contain(form.slice(start, start + 8));
      }
    }
  }
}
