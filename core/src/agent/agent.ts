/**
 * Agents: versioned graphs of blocks. Nodes run blocks (or are the agent's own input and output
 * ports); links carry a node's named output values to another node's named input.
 */

/** A JSON Schema, as blocks and agent inputs declare them. */
export type JsonSchema = Record<string, unknown>;

/** A node that runs a block. */
export interface BlockNode {
  readonly id: string;
  readonly kind: 'block';
  readonly blockId: string;
  /** Fixed input values; a linked input's value arrives along its link instead. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Credential input name (today always `credentials`) -> the id of the credential to use. */
  readonly credentials: Readonly<Record<string, string>>;
}

/** One of the agent's inputs: yields the execution's input value `name` on its output `value`. */
export interface InputNode {
  readonly id: string;
  readonly kind: 'input';
  readonly name: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
  readonly default?: unknown;
}

/** One of the agent's outputs: every value arriving on its input `value` is the agent output `name`. */
export interface OutputNode {
  readonly id: string;
  readonly kind: 'output';
  readonly name: string;
  readonly schema: JsonSchema;
}

export type AgentNode = BlockNode | InputNode | OutputNode;

/** The output an input node yields its value on, and the input an output node takes. */
export const AGENT_PORT_VALUE = 'value';

export interface AgentLink {
  readonly sourceNodeId: string;
  readonly sourceOutput: string;
  readonly sinkNodeId: string;
  readonly sinkInput: string;
  /** The value is kept and reused for every later run of the sink (in this execution). */
  readonly static: boolean;
}

export interface AgentGraph {
  readonly nodes: readonly AgentNode[];
  readonly links: readonly AgentLink[];
}

/** One saved version of an agent: versions are immutable; every update adds one. */
export interface AgentVersion extends AgentGraph {
  readonly agentId: string;
  readonly version: number;
  readonly name: string;
  readonly description: string;
  readonly createdAt: Date;
}

/** An agent: its owner and latest version. */
export interface Agent {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly description: string;
  /** The latest version number (1 for a new agent). */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The agent's own input schema, from its input nodes. */
export function agentInputSchema(graph: AgentGraph): JsonSchema {
  const inputs = graph.nodes.filter((n): n is InputNode => n.kind === 'input');
  return {
    type: 'object',
    properties: Object.fromEntries(inputs.map((n) => [n.name, n.default === undefined ? n.schema : { ...n.schema, default: n.default }])),
    required: inputs.filter((n) => n.required && n.default === undefined).map((n) => n.name),
  };
}

/** The agent's own output schema, from its output nodes: each output is a list of values. */
export function agentOutputSchema(graph: AgentGraph): JsonSchema {
  const outputs = graph.nodes.filter((n): n is OutputNode => n.kind === 'output');
  return { type: 'object', properties: Object.fromEntries(outputs.map((n) => [n.name, { type: 'array', items: n.schema }])) };
}
