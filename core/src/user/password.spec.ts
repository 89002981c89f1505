import { expect } from 'chai';
import { checkPasswordStrength, generatePassword, hashPassword, verifyPassword } from './password.js';

describe('password hashing', () => {
  describe('hashPassword', () => {
    it('encodes scrypt$N$r$p$salt$hash with a fresh salt each time', async () => {
      const [a, b] = await Promise.all([hashPassword('correct horse battery'), hashPassword('correct horse battery')]);
      expect(a).to.match(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(a).not.to.equal(b);
      expect(a).not.to.contain('correct horse');
    });
  });

  describe('verifyPassword', () => {
    it('accepts the right password and rejects others', async () => {
      const encoded = await hashPassword('correct horse battery');
      expect(await verifyPassword('correct horse battery', encoded)).to.equal(true);
      expect(await verifyPassword('correct horse batterY', encoded)).to.equal(false);
      expect(await verifyPassword('', encoded)).to.equal(false);
    });

    it('honours the parameters stored in the hash', async () => {
      const cheap = await hashPassword('pässwörd-ünïcode', { N: 1024, r: 8, p: 1 });
      expect(cheap.startsWith('scrypt$1024$8$1$')).to.equal(true);
      expect(await verifyPassword('pässwörd-ünïcode', cheap)).to.equal(true);
    });

    it('answers false for malformed or hostile hashes instead of throwing', async () => {
      for (const bad of ['', 'scrypt', 'bcrypt$1$2$3$c2FsdA$aGFzaA', 'scrypt$x$8$1$c2FsdA$aGFzaA', 'scrypt$1073741824$8$1$c2FsdA$' + 'A'.repeat(43), 'scrypt$1024$8$1$$' + 'A'.repeat(43), 'scrypt$1024$8$1$c2FsdA$short']) {
        expect(await verifyPassword('anything', bad), bad).to.equal(false);
      }
    });
  });

  describe('generatePassword / checkPasswordStrength', () => {
    it('generates distinct strong passwords', () => {
      const a = generatePassword();
      expect(a).to.match(/^[A-Za-z0-9_-]{24}$/);
      expect(generatePassword()).not.to.equal(a);
      expect(checkPasswordStrength(a)).to.equal(null);
      expect(checkPasswordStrength('short')).to.contain('at least 10');
    });
  });
});
