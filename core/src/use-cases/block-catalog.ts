import type { BlockDefinition } from '../block/block.js';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { NotFoundError } from '../errors/domain.errors.js';

/** Use cases listBlocks and getBlock. */
export class BlockCatalog {
  constructor(private readonly registry: BlockRegistry) {}

  listBlocks(): BlockDefinition[] {
    return this.registry.list().map((b) => b.definition);
  }

  getBlock(id: string): BlockDefinition {
    const block = this.registry.get(id);
    if (!block) throw new NotFoundError(`block ${id} not found`);
    return block.definition;
  }
}
