import type { BlockLogger } from '../block/block.js';

/** Structured logging. Fields never carry secrets; callers make sure of that. */
export interface Logger extends BlockLogger {
  child(bindings: Record<string, unknown>): Logger;
}
export const Logger = Symbol.for('blockyard/Logger');

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
