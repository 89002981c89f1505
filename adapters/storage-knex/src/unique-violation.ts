import { ConflictError } from '@blockyard/core';

/**
 * The column a unique-constraint violation is about ('' when the driver does not say), or
 * null when `error` is something else. Knows sqlite3's SQLITE_CONSTRAINT and pg's 23505.
 */
export function uniqueViolationColumn(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const { code, detail } = error as Error & { code?: unknown; detail?: unknown };
  if (code === '23505') {
    return (typeof detail === 'string' && /^Key \(([^)]+)\)=/.exec(detail)?.[1]) || '';
  }
  if (code === 'SQLITE_CONSTRAINT') {
    const unique = /(?:UNIQUE|PRIMARY KEY) constraint failed: [^.\s]+\.(\w+)/.exec(error.message);
    if (unique) return unique[1] ?? '';
  }
  return null;
}

/** Rethrows a unique violation as a ConflictError (message per column), anything else as is. */
export function rethrowUniqueViolation(error: unknown, messageFor: (column: string) => string): never {
  const column = uniqueViolationColumn(error);
  if (column === null) throw error;
  throw new ConflictError(messageFor(column));
}
