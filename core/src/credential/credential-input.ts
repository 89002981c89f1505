import { ValidationError } from '../errors/domain.errors.js';

/**
 * A block's credential input: `inputs.credentials` = `{ id }` (or the id itself) names one of
 * the caller's credentials. It is not one of the block's own inputs and is never handed to it.
 */
export function splitCredentialInput(inputs: Record<string, unknown>): { credentialId: string | undefined; blockInputs: Record<string, unknown> } {
  const { credentials, ...blockInputs } = inputs;
  const id = typeof credentials === 'string' ? credentials : (credentials as { id?: unknown } | undefined)?.id;
  if (credentials !== undefined && (typeof id !== 'string' || !id)) {
    throw new ValidationError('inputs.credentials must name a credential: { "id": "..." }', [{ path: '/inputs/credentials', message: 'must be { id: string }' }]);
  }
  return { credentialId: id as string | undefined, blockInputs };
}
