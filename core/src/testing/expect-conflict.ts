import { expect } from 'chai';
import { ConflictError } from '../errors/domain.errors.js';

/** Awaits `action` and asserts that it rejected with a ConflictError. */
export async function expectConflict(action: Promise<unknown>): Promise<ConflictError> {
  let thrown: unknown;
  try {
    await action;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a ConflictError, but the call succeeded').to.not.equal(undefined);
  expect(thrown).to.be.instanceOf(ConflictError);
  return thrown as ConflictError;
}
