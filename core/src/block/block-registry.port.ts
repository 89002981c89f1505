import type { SchemaIssue } from '@blockyard/contracts';
import type { Block, BlockDefinition, BlockHandler } from './block.js';

/** A block ready to run: its validators compiled once, when it was registered. */
export interface RegisteredBlock {
  readonly definition: BlockDefinition;
  readonly handler: BlockHandler;
  /** The plugin that provided it. */
  readonly source: string;
  /** Validates (and fills in defaults of) inputs in place; null when valid. */
  validateInputs(inputs: Record<string, unknown>): SchemaIssue[] | null;
  /** Validates one output value; null when valid, issues when not or the name is unknown. */
  validateOutput(name: string, value: unknown): SchemaIssue[] | null;
}

/** The blocks this process can run. */
export interface BlockRegistry {
  list(): readonly RegisteredBlock[];
  get(id: string): RegisteredBlock | undefined;
  /** Compiles and adds a block; a duplicate id is a ConflictError, a bad schema a ValidationError. */
  register(block: Block, source: string): RegisteredBlock;
  /** Adds all blocks or, when any is a duplicate or fails to compile, none of them. */
  registerAll(blocks: readonly Block[], source: string): RegisteredBlock[];
}
export const BlockRegistry = Symbol.for('blockyard/BlockRegistry');
