import { createAjv, toIssues, type Ajv, type SchemaIssue, type ValidateFunction } from '@blockyard/contracts';
import { ConflictError, ValidationError } from '../errors/domain.errors.js';
import type { Block } from './block.js';
import type { BlockRegistry, RegisteredBlock } from './block-registry.port.js';

/**
 * The registry every composition uses: blocks live in process memory, their schemas
 * compiled once at registration so that no run compiles anything.
 */
export class InMemoryBlockRegistry implements BlockRegistry {
  readonly #blocks = new Map<string, RegisteredBlock>();
  readonly #ajv: Ajv;

  constructor(ajv: Ajv = createAjv()) {
    this.#ajv = ajv;
  }

  list(): readonly RegisteredBlock[] {
    return [...this.#blocks.values()];
  }

  get(id: string): RegisteredBlock | undefined {
    return this.#blocks.get(id);
  }

  register(block: Block, source: string): RegisteredBlock {
    return this.registerAll([block], source)[0]!;
  }

  registerAll(blocks: readonly Block[], source: string): RegisteredBlock[] {
    const seen = new Set<string>();
    for (const { definition } of blocks) {
      const existing = this.#blocks.get(definition.id);
      if (existing) throw new ConflictError(`block ${definition.id} is already provided by ${existing.source}`);
      if (seen.has(definition.id)) throw new ConflictError(`block ${definition.id} is declared twice by ${source}`);
      seen.add(definition.id);
    }
    const compiled = blocks.map((block) => compileBlock(this.#ajv, block, source));
    for (const registered of compiled) this.#blocks.set(registered.definition.id, registered);
    return compiled;
  }
}

function compileBlock(ajv: Ajv, block: Block, source: string): RegisteredBlock {
  const { definition } = block;
  const compile = (schema: object, where: string): ValidateFunction => {
    try {
      return ajv.compile(schema);
    } catch (e) {
      throw new ValidationError(`block ${definition.id}: ${where} is not a valid JSON Schema: ${(e as Error).message}`);
    }
  };
  const inputValidator = compile(definition.input_schema, 'input_schema');
  const outputValidators = new Map<string, ValidateFunction>();
  for (const [name, schema] of Object.entries(definition.output_schema.properties ?? {})) {
    outputValidators.set(name, compile(typeof schema === 'boolean' ? {} : schema, `output_schema/properties/${name}`));
  }
  // An `error` output is always allowed: yielding it fails the run with its message.
  if (!outputValidators.has('error')) outputValidators.set('error', compile({ type: 'string' }, 'error output'));

  return {
    definition,
    handler: block.handler as RegisteredBlock['handler'],
    source,
    validateInputs(inputs) {
      return inputValidator(inputs) ? null : toIssues(inputValidator.errors);
    },
    validateOutput(name, value): SchemaIssue[] | null {
      const fn = outputValidators.get(name);
      if (!fn) return [{ path: `/${name}`, message: 'is not an output of this block' }];
      return fn(value) ? null : toIssues(fn.errors).map((i) => ({ path: `/${name}${i.path}`, message: i.message }));
    },
  };
}
