/**
 * An execution started through the external API by an app: which app, for which user, and the
 * `Idempotency-Key` it was started with. Executions are found through these records only, so
 * that an app never sees another app's (or the user's own) executions.
 */
export interface ExternalExecution {
  readonly executionId: string;
  readonly clientId: string;
  readonly userId: string;
  /** The request's Idempotency-Key; null without one. Unique per (client, user). */
  readonly idempotencyKey: string | null;
  /** SHA-256 (hex) of what was asked (agent and body), to tell a repeated request from a different one under the same key. */
  readonly requestHash: string | null;
  readonly createdAt: Date;
}

/** Records of executions started by apps. Every adapter passes `externalExecutionRepositoryContract`. */
export interface ExternalExecutionRepository {
  /**
   * Stores the record, unless another record of the same client and user holds its
   * idempotency key: then nothing is stored and that record is answered (null when stored).
   * A duplicate execution id is a ConflictError.
   */
  create(record: ExternalExecution): Promise<ExternalExecution | null>;
  get(executionId: string): Promise<ExternalExecution | null>;
  /**
   * Replaces the record of `expectedExecutionId` by `record` (same client, user and key), when it
   * is still there (compare-and-set): how a key whose execution was never created is taken over.
   */
  replace(expectedExecutionId: string, record: ExternalExecution): Promise<boolean>;
  /** False when there was none. */
  delete(executionId: string): Promise<boolean>;
}
export const ExternalExecutionRepository = Symbol.for('blockyard/ExternalExecutionRepository');
