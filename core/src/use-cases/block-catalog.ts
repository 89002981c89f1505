import type { BlockDefinition } from '../block/block.js';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { NotFoundError } from '../errors/domain.errors.js';

/** Use cases listBlocks and getBlock. */
export class BlockCatalog {
  constructor(private readonly registry: BlockRegistry) {}

  /** The blocks, without their self-test cases (plugin tooling's business, not the API's). */
  listBlocks(): BlockDefinition[] {
    return this.registry.list().map((b) => publicDefinition(b.definition));
  }

  getBlock(id: string): BlockDefinition {
    const block = this.registry.get(id);
    if (!block) throw new NotFoundError(`block ${id} not found`);
    return publicDefinition(block.definition);
  }
}

function publicDefinition(definition: BlockDefinition): BlockDefinition {
  if (!definition.tests) return definition;
  const { tests: _tests, ...rest } = definition;
  return rest;
}
