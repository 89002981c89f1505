import type { Ajv, ValidateFunction } from 'ajv';
import { createAjv, toIssues, type SchemaIssue } from './ajv.js';
import { allSchemas } from './generated/schemas.js';

export type ContractSchemaId = (typeof allSchemas)[number]['$id'];

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

/**
 * Validators for every contract schema, compiled once. Use one instance per process
 * (compiling is the expensive part; validating is cheap).
 */
export class ContractValidators {
  readonly ajv: Ajv;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(ajv: Ajv = createAjv()) {
    this.ajv = ajv;
    for (const schema of allSchemas) if (!ajv.getSchema(schema.$id)) ajv.addSchema(schema as object, schema.$id);
  }

  /** The compiled validator of a contract schema, e.g. 'execution.schema.json'. */
  validator(id: ContractSchemaId): ValidateFunction {
    let fn = this.#compiled.get(id);
    if (!fn) {
      fn = this.ajv.getSchema(id);
      if (!fn) throw new Error(`unknown contract schema ${id}`);
      this.#compiled.set(id, fn);
    }
    return fn;
  }

  validate<T>(id: ContractSchemaId, data: unknown): ValidationResult<T> {
    const fn = this.validator(id);
    return fn(data) ? { ok: true, value: data as T } : { ok: false, issues: toIssues(fn.errors) };
  }
}
