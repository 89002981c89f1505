/** The SQL databases the knex storage adapter runs on. */
export type SqlDialect = 'sqlite' | 'postgres';
