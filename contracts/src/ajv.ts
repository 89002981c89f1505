import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

/** One failing place in a validated document, as a JSON pointer and a message. */
export interface SchemaIssue {
  /** JSON pointer into the validated document, '' for the document itself. */
  path: string;
  message: string;
}

/**
 * A new ajv instance configured the way Blockyard validates everything: all errors at
 * once, defaults applied, formats known, strict about schemas themselves.
 */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** Turns ajv's errors into issues whose paths name the failing property. */
export function toIssues(errors: readonly ErrorObject[] | null | undefined): SchemaIssue[] {
  if (!errors) return [];
  return errors.map((e) => {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') path += `/${String((e.params as { missingProperty: string }).missingProperty)}`, (message = 'is required');
    else if (e.keyword === 'additionalProperties') path += `/${String((e.params as { additionalProperty: string }).additionalProperty)}`, (message = 'is not allowed');
    else if (e.keyword === 'enum') message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    return { path, message };
  });
}

/** "/a/b: must be string; /c: is required" */
export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ');
}

export type { ValidateFunction, Ajv };
