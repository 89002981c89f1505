import { expect } from 'chai';
import { DomainError, NotFoundError, PermissionError, ValidationError } from './domain.errors.js';

describe('DomainError', () => {
  describe('is', () => {
    it('recognises every subclass by its kind', () => {
      expect(DomainError.is(new NotFoundError('x'), 'not_found')).to.equal(true);
      expect(DomainError.is(new PermissionError('x'), 'forbidden')).to.equal(true);
      expect(DomainError.is(new ValidationError('x'), 'not_found')).to.equal(false);
    });

    it('rejects plain errors and non-errors', () => {
      expect(DomainError.is(new Error('x'))).to.equal(false);
      expect(DomainError.is({ kind: 'not_found' })).to.equal(false);
      expect(DomainError.is(null)).to.equal(false);
    });
  });
});
