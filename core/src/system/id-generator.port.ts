/** Where the domain gets new ids. */
export interface IdGenerator {
  next(): string;
}
export const IdGenerator = Symbol.for('blockyard/IdGenerator');

/** Random UUIDv4 ids. */
export class UuidGenerator implements IdGenerator {
  next(): string {
    return globalThis.crypto.randomUUID();
  }
}

/** Predictable ids for tests: `${prefix}-1`, `${prefix}-2`, ... */
export class SequentialIdGenerator implements IdGenerator {
  #n = 0;
  constructor(readonly prefix = 'id') {}
  next(): string {
    return `${this.prefix}-${++this.#n}`;
  }
}
