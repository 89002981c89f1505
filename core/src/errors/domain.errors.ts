import type { SchemaIssue } from '@blockyard/contracts';

/** What went wrong, independent of any transport. The HTTP adapter maps each kind to a status. */
export type DomainErrorKind =
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'unexpected';

const BRAND = Symbol.for('blockyard/DomainError');

/**
 * The one base of every error the domain raises on purpose. Its message is safe to show
 * to the caller: it never carries a secret or a stack trace.
 */
export class DomainError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** True for any DomainError (of the given kind), also across copies of this package. */
  static is(value: unknown, kind?: DomainErrorKind): value is DomainError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      (kind === undefined || (value as DomainError).kind === kind)
    );
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** Input that does not match its schema; `issues` name each failing path. */
export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly issues: readonly SchemaIssue[] = [],
  ) {
    super('invalid_input', message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'missing or invalid credentials') {
    super('unauthorized', message);
  }
}

export class PermissionError extends DomainError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super('rate_limited', message);
  }
}

export class UnexpectedError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unexpected', message, options);
  }
}
