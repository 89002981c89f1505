import type { SqlDialect } from './sql-dialect.js';

/** A timestamp as a column holds it: epoch milliseconds on SQLite, timestamptz(3) on PostgreSQL. */
export type DbDate = Date | number;

/**
 * Converts values between the domain and table rows. SQLite keeps timestamps as integer
 * epoch milliseconds and JSON as text; PostgreSQL uses timestamptz and jsonb, which its
 * driver parses into Dates and objects on read.
 */
export class RowCodec {
  constructor(readonly dialect: SqlDialect) {}

  date(value: Date): DbDate {
    return this.dialect === 'sqlite' ? value.getTime() : value;
  }

  nullableDate(value: Date | null): DbDate | null {
    return value === null ? null : this.date(value);
  }

  readDate(value: unknown): Date {
    if (value instanceof Date) return value;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return new Date(Number(value));
    throw new TypeError(`not a stored timestamp: ${String(value)}`);
  }

  readNullableDate(value: unknown): Date | null {
    return value === null || value === undefined ? null : this.readDate(value);
  }

  /** JSON goes in as text on both: pg would turn a bare JS array into a PostgreSQL array. */
  json(value: unknown): string {
    return JSON.stringify(value);
  }

  readJson<T>(value: unknown): T {
    return (this.dialect === 'sqlite' ? JSON.parse(value as string) : value) as T;
  }
}
