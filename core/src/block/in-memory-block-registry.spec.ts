import { expect } from 'chai';
import { DomainError } from '../errors/domain.errors.js';
import type { Block } from './block.js';
import { InMemoryBlockRegistry } from './in-memory-block-registry.js';

const blockFixture = (id: string, input_schema: object = { type: 'object' }): Block => ({
  definition: { id, name: id, description: '', categories: [], input_schema: input_schema as Block['definition']['input_schema'], output_schema: { type: 'object' } },
  handler: () => undefined,
});

describe('InMemoryBlockRegistry', () => {
  describe('registerAll', () => {
    it('registers the blocks under their ids with their source', () => {
      const registry = new InMemoryBlockRegistry();
      registry.registerAll([blockFixture('a.one'), blockFixture('a.two')], 'plugin-a');
      expect(registry.list().map((b) => b.definition.id)).to.deep.equal(['a.one', 'a.two']);
      expect(registry.get('a.two')?.source).to.equal('plugin-a');
    });

    it('rejects a duplicate id with a conflict naming the first provider, registering nothing', () => {
      const registry = new InMemoryBlockRegistry();
      registry.register(blockFixture('a.one'), 'plugin-a');
      expect(() => registry.registerAll([blockFixture('b.new'), blockFixture('a.one')], 'plugin-b'))
        .to.throw(/a\.one is already provided by plugin-a/)
        .that.satisfies((e: unknown) => DomainError.is(e, 'conflict'));
      expect(registry.get('b.new')).to.equal(undefined);
    });

    it('rejects a schema that does not compile, registering nothing', () => {
      const registry = new InMemoryBlockRegistry();
      expect(() => registry.registerAll([blockFixture('c.ok'), blockFixture('c.bad', { type: 'object', properties: { x: { type: 'nonsense' } } })], 'plugin-c')).to.throw(/c\.bad: input_schema/);
      expect(registry.list()).to.have.length(0);
    });
  });
});
