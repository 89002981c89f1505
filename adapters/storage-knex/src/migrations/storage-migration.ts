import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';

/** One schema change, written as code. Applied migrations are recorded by name: never rename one. */
export interface StorageMigration {
  readonly name: string;
  up(knex: Knex, dialect: SqlDialect): Promise<void>;
  down(knex: Knex, dialect: SqlDialect): Promise<void>;
}

/** A timestamp column: epoch milliseconds on SQLite, timestamptz with millisecond precision on PostgreSQL. */
export function timestampColumn(table: Knex.CreateTableBuilder, name: string, dialect: SqlDialect): Knex.ColumnBuilder {
  return dialect === 'sqlite' ? table.bigInteger(name) : table.timestamp(name, { useTz: true, precision: 3 });
}

/** A JSON column: text on SQLite, jsonb on PostgreSQL. */
export function jsonColumn(table: Knex.CreateTableBuilder, name: string, dialect: SqlDialect): Knex.ColumnBuilder {
  return dialect === 'sqlite' ? table.text(name) : table.jsonb(name);
}
