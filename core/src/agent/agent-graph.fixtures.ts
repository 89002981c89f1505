import type { Block, BlockDefinition } from '../block/block.js';
import { InMemoryBlockRegistry } from '../block/in-memory-block-registry.js';
import type { AgentBlockLookup, AgentCredentialInfo } from './agent-graph.validator.js';
import type { AgentLink, AgentNode, BlockNode, InputNode, OutputNode } from './agent.js';

/**
 * Blocks for agent specs: `t.source` (no inputs; outputs text, count, data, any), `t.echo`
 * (text required, times with a default), `t.greet` (greeting required, with a default),
 * `t.join` (a and b required), `t.number` (n number),
 * `t.issue` (needs a github api_key/oauth2 credential with github:repo.write), `t.trigger`
 * (a trigger; payload required).
 */
export function agentSpecBlocks(): AgentBlockLookup {
  const registry = new InMemoryBlockRegistry();
  const block = (definition: Partial<BlockDefinition> & Pick<BlockDefinition, 'id' | 'input_schema' | 'output_schema'>): Block => ({
    definition: { name: definition.id, description: '', categories: [], ...definition },
    handler: () => undefined,
  });
  registry.registerAll(
    [
      block({
        id: 't.source',
        input_schema: { type: 'object', properties: {} },
        output_schema: { type: 'object', properties: { text: { type: 'string' }, count: { type: 'integer' }, data: { type: 'object' }, any: {} } },
      }),
      block({
        id: 't.echo',
        input_schema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string' }, times: { type: 'integer', minimum: 1, default: 1 } } },
        output_schema: { type: 'object', properties: { text: { type: 'string' } } },
      }),
      block({
        id: 't.greet',
        input_schema: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string', default: 'hello' } } },
        output_schema: { type: 'object', properties: { text: { type: 'string' } } },
      }),
      block({
        id: 't.join',
        input_schema: { type: 'object', required: ['a', 'b'], properties: { a: { type: 'string' }, b: { type: 'string' } } },
        output_schema: { type: 'object', properties: { text: { type: 'string' } } },
      }),
      block({
        id: 't.number',
        input_schema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
        output_schema: { type: 'object', properties: { n: { type: 'number' } } },
      }),
      block({
        id: 't.issue',
        input_schema: { type: 'object', required: ['title'], properties: { title: { type: 'string' } } },
        output_schema: { type: 'object', properties: { url: { type: 'string' } } },
        credentials: { provider: 'github', kinds: ['api_key', 'oauth2'], scopes: ['github:repo.write'] },
      }),
      block({
        id: 't.trigger',
        kind: 'trigger',
        input_schema: { type: 'object', required: ['payload'], properties: { payload: { type: 'object' } } },
        output_schema: { type: 'object', properties: { event: { type: 'object' } } },
      }),
    ],
    'agent-spec',
  );
  return registry;
}

export const input = (id: string, name = id, schema: Record<string, unknown> = { type: 'string' }, extra: Partial<InputNode> = {}): InputNode => ({ id, kind: 'input', name, schema, required: true, ...extra });
export const output = (id: string, name = id, schema: Record<string, unknown> = {}): OutputNode => ({ id, kind: 'output', name, schema });
export const node = (id: string, blockId: string, inputs: Record<string, unknown> = {}, credentials: Record<string, string> = {}): BlockNode => ({ id, kind: 'block', blockId, inputs, credentials });
export const link = (source: string, sourceOutput: string, sink: string, sinkInput: string, isStatic = false): AgentLink => ({
  sourceNodeId: source,
  sourceOutput,
  sinkNodeId: sink,
  sinkInput,
  static: isStatic,
});

/** in -> a (echo) and b (echo) -> join -> out: every node's inputs have a source. */
export function diamondGraph(): { nodes: AgentNode[]; links: AgentLink[] } {
  return {
    nodes: [input('in', 'topic'), node('a', 't.echo'), node('b', 't.echo', { times: 2 }), node('join', 't.join'), output('out', 'text', { type: 'string' })],
    links: [link('in', 'value', 'a', 'text'), link('in', 'value', 'b', 'text'), link('a', 'text', 'join', 'a'), link('b', 'text', 'join', 'b', true), link('join', 'text', 'out', 'value')],
  };
}

/** A credential lookup over the given credentials. */
export function credentialLookup(...credentials: AgentCredentialInfo[]): { get(id: string): AgentCredentialInfo | undefined } {
  return new Map(credentials.map((c) => [c.id, c]));
}
