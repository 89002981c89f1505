import { createAjv, formatIssues, toIssues, type Ajv, type SchemaIssue } from '@blockyard/contracts';
import type { RegisteredBlock } from '../block/block-registry.port.js';
import type { CredentialKind } from '../credential/credential.js';
import { ValidationError } from '../errors/domain.errors.js';
import { AGENT_PORT_VALUE, type AgentGraph, type AgentLink, type AgentNode, type BlockNode, type JsonSchema } from './agent.js';

/** The blocks a graph may use, as the block registry answers them. */
export interface AgentBlockLookup {
  get(id: string): Pick<RegisteredBlock, 'definition' | 'validateInputs'> | undefined;
}

/** What validation needs to know of a credential a node names (never its secret). */
export interface AgentCredentialInfo {
  readonly id: string;
  readonly provider: string;
  readonly kind: CredentialKind;
  readonly scopes: readonly string[];
}

export interface AgentGraphValidationContext {
  blocks: AgentBlockLookup;
  /**
   * The caller's own credentials among those the graph names, already fetched: an id it does
   * not answer is reported as not found (unknown, or someone else's).
   */
  credentials: { get(id: string): AgentCredentialInfo | undefined };
  /**
   * Providers with a system credential. When given, a node of a block that needs a credential
   * and names none is reported unless its provider is among them.
   */
  systemCredentialProviders?: Iterable<string>;
}

/** One problem of a graph: `path` and `message` both name the node(s) concerned. */
export interface AgentGraphIssue extends SchemaIssue {
  readonly nodeIds: readonly string[];
}

/** The credential input every block with a credential requirement has. */
export const CREDENTIALS_INPUT = 'credentials';
/** The input of a trigger block that the webhook delivery fills. */
export const TRIGGER_PAYLOAD_INPUT = 'payload';

/**
 * Every problem of an agent graph, all at once: duplicate node ids, unknown blocks, unknown
 * input/output names, links to unknown nodes or between incompatible schemas, required inputs
 * with no source, fixed input values the block rejects, unusable credentials, duplicate agent
 * input/output names, and cycles. Pure: credentials come already fetched.
 */
export function agentGraphIssues(graph: AgentGraph, context: AgentGraphValidationContext): AgentGraphIssue[] {
  return new GraphChecker(graph, context).check();
}

/** A ValidationError listing every problem of the graph, or null when it is valid. */
export function validateAgentGraph(graph: AgentGraph, context: AgentGraphValidationContext): ValidationError | null {
  const issues = agentGraphIssues(graph, context);
  if (issues.length === 0) return null;
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new ValidationError(`invalid agent graph (${count}): ${formatIssues(issues)}`, issues);
}

/** A node's named port as validation sees it: its JSON Schema, when there is one. */
type Port = { schema: unknown } | undefined;

class GraphChecker {
  private readonly issues: AgentGraphIssue[] = [];
  private readonly nodes = new Map<string, AgentNode>();
  private readonly blocks = new Map<string, Pick<RegisteredBlock, 'definition' | 'validateInputs'>>();

  constructor(
    private readonly graph: AgentGraph,
    private readonly context: AgentGraphValidationContext,
  ) {}

  check(): AgentGraphIssue[] {
    this.indexNodes();
    for (const node of this.nodes.values()) this.checkNode(node);
    this.checkPortNames('input');
    this.checkPortNames('output');
    const linked = this.checkLinks();
    for (const node of this.nodes.values()) if (node.kind === 'block') this.checkRequiredInputs(node, linked);
    this.checkCycles();
    return this.issues;
  }

  private report(path: string, message: string, nodeIds: readonly string[]): void {
    this.issues.push({ path, message, nodeIds });
  }

  private indexNodes(): void {
    const counts = new Map<string, number>();
    for (const node of this.graph.nodes) {
      counts.set(node.id, (counts.get(node.id) ?? 0) + 1);
      if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
    }
    for (const [id, count] of counts) {
      if (count > 1) this.report(nodePath(id), `node id "${id}" is used by ${count} nodes`, [id]);
    }
  }

  private checkNode(node: AgentNode): void {
    if (node.kind === 'input') {
      const compiled = compileNodeSchema(node.schema);
      if (typeof compiled === 'string') this.report(nodePath(node.id, 'schema'), `input node "${node.id}": schema is not a valid JSON Schema: ${compiled}`, [node.id]);
      else if (node.default !== undefined) {
        const issues = compiled(node.default);
        if (issues) this.report(nodePath(node.id, 'default'), `input node "${node.id}": default does not match its schema: ${formatIssues(issues)}`, [node.id]);
      }
      return;
    }
    if (node.kind === 'output') {
      const compiled = compileNodeSchema(node.schema);
      if (typeof compiled === 'string') this.report(nodePath(node.id, 'schema'), `output node "${node.id}": schema is not a valid JSON Schema: ${compiled}`, [node.id]);
      return;
    }
    const block = this.context.blocks.get(node.blockId);
    if (!block) {
      this.report(nodePath(node.id, 'block_id'), `node "${node.id}": unknown block ${node.blockId}`, [node.id]);
      return;
    }
    this.blocks.set(node.id, block);
    this.checkFixedInputs(node, block);
    this.checkCredentials(node, block);
  }

  private checkFixedInputs(node: BlockNode, block: Pick<RegisteredBlock, 'definition' | 'validateInputs'>): void {
    const unknown = new Set<string>();
    for (const name of Object.keys(node.inputs)) {
      if (!blockInput(block, name)) {
        unknown.add(name);
        this.report(nodePath(node.id, 'inputs', name), `node "${node.id}": block ${node.blockId} has no input "${name}"`, [node.id]);
      }
    }
    // The block's own validator judges the fixed values. Inputs missing here may arrive along
    // links (checked below, with the links), and unknown names are reported above.
    const required = new Set(block.definition.input_schema.required ?? []);
    const issues = (block.validateInputs(structuredClone({ ...node.inputs })) ?? []).filter((issue) => {
      const top = topName(issue.path);
      if (top !== undefined && unknown.has(top)) return false;
      return !(issue.message === 'is required' && required.has(issue.path.slice(1)));
    });
    for (const issue of issues) {
      this.report(`${nodePath(node.id, 'inputs')}${issue.path}`, `node "${node.id}": input ${issue.path || '/'} ${issue.message}`, [node.id]);
    }
  }

  private checkCredentials(node: BlockNode, block: Pick<RegisteredBlock, 'definition' | 'validateInputs'>): void {
    const requirement = block.definition.credentials;
    for (const [name, credentialId] of Object.entries(node.credentials)) {
      const path = nodePath(node.id, 'credentials', name);
      if (!requirement) {
        this.report(path, `node "${node.id}": block ${node.blockId} takes no credential`, [node.id]);
        continue;
      }
      if (name !== CREDENTIALS_INPUT) {
        this.report(path, `node "${node.id}": block ${node.blockId} has no credential input "${name}" (it is "${CREDENTIALS_INPUT}")`, [node.id]);
        continue;
      }
      const credential = this.context.credentials.get(credentialId);
      if (!credential) {
        this.report(path, `node "${node.id}": credential ${credentialId} not found`, [node.id]);
        continue;
      }
      if (credential.provider !== requirement.provider) {
        this.report(path, `node "${node.id}": credential ${credentialId} is for ${credential.provider}; block ${node.blockId} needs a credential for ${requirement.provider}`, [node.id]);
        continue;
      }
      if (!requirement.kinds.includes(credential.kind)) {
        this.report(path, `node "${node.id}": credential ${credentialId} is ${credential.kind}; block ${node.blockId} takes ${requirement.kinds.join(' or ')}`, [node.id]);
        continue;
      }
      const missing = (requirement.scopes ?? []).filter((scope) => !credential.scopes.includes(scope));
      if (missing.length) this.report(path, `node "${node.id}": credential ${credentialId} lacks the scope(s) ${missing.join(', ')} that block ${node.blockId} needs`, [node.id]);
    }
    if (requirement && node.credentials[CREDENTIALS_INPUT] === undefined && this.context.systemCredentialProviders) {
      const system = new Set(this.context.systemCredentialProviders);
      if (!system.has(requirement.provider)) {
        this.report(
          nodePath(node.id, 'credentials', CREDENTIALS_INPUT),
          `node "${node.id}": block ${node.blockId} needs a credential for ${requirement.provider} and the server has no system one: name one of yours`,
          [node.id],
        );
      }
    }
  }

  private checkPortNames(kind: 'input' | 'output'): void {
    const byName = new Map<string, string[]>();
    for (const node of this.nodes.values()) {
      if (node.kind !== kind) continue;
      byName.set(node.name, [...(byName.get(node.name) ?? []), node.id]);
    }
    for (const [name, ids] of byName) {
      if (ids.length < 2) continue;
      this.report(nodePath(ids[0]!, 'name'), `${kind} nodes ${ids.map((id) => `"${id}"`).join(', ')} share the ${kind} name "${name}"`, ids);
    }
  }

  /** Checks each link; answers the linked sink inputs as "nodeId\0input". */
  private checkLinks(): Set<string> {
    const linked = new Set<string>();
    const seen = new Map<string, number>();
    this.graph.links.forEach((link, index) => {
      const source = this.nodes.get(link.sourceNodeId);
      const sink = this.nodes.get(link.sinkNodeId);
      if (!source) this.report(`/links/${index}/source_node_id`, `link ${index}: no node "${link.sourceNodeId}" (linked to node "${link.sinkNodeId}")`, [link.sourceNodeId]);
      if (!sink) this.report(`/links/${index}/sink_node_id`, `link ${index}: no node "${link.sinkNodeId}" (linked from node "${link.sourceNodeId}")`, [link.sinkNodeId]);
      if (!source || !sink) return;
      const key = linkKey(link);
      const first = seen.get(key);
      if (first !== undefined) {
        this.report(`/links/${index}`, `link ${index} repeats link ${first}: node "${link.sourceNodeId}" output "${link.sourceOutput}" -> node "${link.sinkNodeId}" input "${link.sinkInput}"`, [link.sourceNodeId, link.sinkNodeId]);
        return;
      }
      seen.set(key, index);
      linked.add(`${link.sinkNodeId}\0${link.sinkInput}`);
      const out = this.outputPort(source, link.sourceOutput);
      const into = this.inputPort(sink, link.sinkInput);
      if (out === 'unknown') {
        this.report(nodePath(source.id, 'outputs', link.sourceOutput), `node "${source.id}": ${describe(source)} has no output "${link.sourceOutput}" (link ${index} to node "${sink.id}")`, [source.id]);
      }
      if (into === 'unknown') {
        this.report(nodePath(sink.id, 'inputs', link.sinkInput), `node "${sink.id}": ${describe(sink)} has no input "${link.sinkInput}" (link ${index} from node "${source.id}")`, [sink.id]);
      }
      if (sink.kind === 'block' && this.blocks.get(sink.id)?.definition.kind === 'trigger') {
        this.report(nodePath(sink.id, 'inputs', link.sinkInput), `node "${sink.id}": trigger block ${sink.blockId} starts the agent from a webhook and takes no links (link ${index} from node "${source.id}")`, [sink.id]);
        return;
      }
      if (typeof out === 'object' && typeof into === 'object') {
        const from = declaredTypes(out.schema);
        const to = declaredTypes(into.schema);
        if (from && to && !typesOverlap(from, to)) {
          this.report(
            nodePath(sink.id, 'inputs', link.sinkInput),
            `node "${sink.id}" input "${link.sinkInput}" (${[...to].join(' | ')}) cannot take node "${source.id}" output "${link.sourceOutput}" (${[...from].join(' | ')}) (link ${index})`,
            [source.id, sink.id],
          );
        }
      }
    });
    return linked;
  }

  private checkRequiredInputs(node: BlockNode, linked: ReadonlySet<string>): void {
    const block = this.blocks.get(node.id);
    if (!block) return;
    const trigger = block.definition.kind === 'trigger';
    for (const name of block.definition.input_schema.required ?? []) {
      if (node.inputs[name] !== undefined || linked.has(`${node.id}\0${name}`)) continue;
      if (trigger && name === TRIGGER_PAYLOAD_INPUT) continue;
      const port = blockInput(block, name);
      if (port && isObject(port.schema) && port.schema['default'] !== undefined) continue;
      this.report(nodePath(node.id, 'inputs', name), `node "${node.id}": required input "${name}" of block ${node.blockId} has no value, default or link`, [node.id]);
    }
  }

  /** Tarjan's strongly connected components, iteratively: each component with a cycle is reported once. */
  private checkCycles(): void {
    const order = [...this.nodes.keys()];
    const next = new Map<string, string[]>(order.map((id) => [id, []]));
    const selfLinked = new Set<string>();
    for (const link of this.graph.links) {
      if (!this.nodes.has(link.sourceNodeId) || !this.nodes.has(link.sinkNodeId)) continue;
      next.get(link.sourceNodeId)!.push(link.sinkNodeId);
      if (link.sourceNodeId === link.sinkNodeId) selfLinked.add(link.sourceNodeId);
    }
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const components: string[][] = [];
    let counter = 0;
    for (const root of order) {
      if (index.has(root)) continue;
      const work: Array<{ id: string; edge: number }> = [{ id: root, edge: 0 }];
      index.set(root, counter);
      low.set(root, counter++);
      stack.push(root);
      onStack.add(root);
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const edges = next.get(frame.id)!;
        if (frame.edge < edges.length) {
          const to = edges[frame.edge++]!;
          if (!index.has(to)) {
            index.set(to, counter);
            low.set(to, counter++);
            stack.push(to);
            onStack.add(to);
            work.push({ id: to, edge: 0 });
          } else if (onStack.has(to)) {
            low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
          }
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
        if (low.get(frame.id) === index.get(frame.id)) {
          const component: string[] = [];
          let member: string;
          do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(member);
          } while (member !== frame.id);
          if (component.length > 1 || selfLinked.has(frame.id)) components.push(component);
        }
      }
    }
    const position = new Map(order.map((id, i) => [id, i]));
    for (const component of components) {
      const members = component.sort((a, b) => position.get(a)! - position.get(b)!);
      const cycle = shortestCycle(members[0]!, new Set(members), next);
      const shown = cycle.map((id) => `"${id}"`).join(' -> ');
      const message =
        members.length === 1
          ? `node "${members[0]}" links to itself, a cycle`
          : cycle.length - 1 === members.length
          ? `nodes form a cycle: ${shown}`
          : `nodes ${members.map((id) => `"${id}"`).join(', ')} are on cycles, e.g. ${shown}`;
      this.report(nodePath(members[0]!), message, members);
    }
  }

  private outputPort(node: AgentNode, name: string): Port | 'unknown' | 'unchecked' {
    if (node.kind === 'input') return name === AGENT_PORT_VALUE ? { schema: node.schema } : 'unknown';
    if (node.kind === 'output') return 'unknown';
    const block = this.blocks.get(node.id);
    if (!block) return 'unchecked';
    const properties = block.definition.output_schema.properties ?? {};
    return Object.hasOwn(properties, name) ? { schema: properties[name] } : 'unknown';
  }

  private inputPort(node: AgentNode, name: string): Port | 'unknown' | 'unchecked' {
    if (node.kind === 'output') return name === AGENT_PORT_VALUE ? { schema: node.schema } : 'unknown';
    if (node.kind === 'input') return 'unknown';
    const block = this.blocks.get(node.id);
    if (!block) return 'unchecked';
    return blockInput(block, name) ?? 'unknown';
  }
}

/**
 * A block's input by name: a declared property, a patternProperties match, or any name when
 * the schema explicitly allows additional properties. Undefined when the block has no such input.
 */
function blockInput(block: Pick<RegisteredBlock, 'definition'>, name: string): { schema: unknown } | undefined {
  const schema = block.definition.input_schema as JsonSchema;
  const properties = (schema['properties'] ?? {}) as Record<string, unknown>;
  if (Object.hasOwn(properties, name)) return { schema: properties[name] };
  const patterns = schema['patternProperties'];
  if (isObject(patterns)) {
    for (const [pattern, sub] of Object.entries(patterns)) {
      try {
        if (new RegExp(pattern, 'u').test(name)) return { schema: sub };
      } catch {
        /* a pattern ajv accepted but RegExp does not: ignore it */
      }
    }
  }
  const additional = schema['additionalProperties'];
  if (additional === true || isObject(additional)) return { schema: additional };
  return undefined;
}

/** The JSON types a schema declares with `type`, integer folded into number; null when it declares none. */
function declaredTypes(schema: unknown): Set<string> | null {
  if (!isObject(schema)) return null;
  const type = schema['type'];
  const list = typeof type === 'string' ? [type] : Array.isArray(type) && type.every((t) => typeof t === 'string') ? (type as string[]) : null;
  return list && list.length > 0 ? new Set(list) : null;
}

function typesOverlap(from: ReadonlySet<string>, to: ReadonlySet<string>): boolean {
  for (const type of from) {
    if (to.has(type)) return true;
    if (type === 'integer' && to.has('number')) return true;
    // A number output may well be whole: only the value, at run time, can tell.
    if (type === 'number' && to.has('integer')) return true;
  }
  return false;
}

/** The shortest cycle through `start` within `members`, as ids from start back to start. */
function shortestCycle(start: string, members: ReadonlySet<string>, next: ReadonlyMap<string, readonly string[]>): string[] {
  const parent = new Map<string, string>();
  const queue: string[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const to of next.get(id) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [id];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return [...path, start];
      }
      if (parent.has(to)) continue;
      parent.set(to, id);
      queue.push(to);
    }
  }
  return [start, start];
}

type NodeSchemaCheck = ((value: unknown) => SchemaIssue[] | null) | string;

let nodeSchemaAjv: Ajv | undefined;

/**
 * Compiles an agent input/output node's schema, answering its validator or why it is no JSON
 * Schema. The compiled schema is dropped from ajv's cache at once: saved graphs must not grow it.
 */
function compileNodeSchema(schema: JsonSchema): NodeSchemaCheck {
  const ajv = (nodeSchemaAjv ??= createAjv());
  try {
    const validate = ajv.compile(schema);
    return (value) => {
      // Validating fills in defaults: check a copy.
      const copy = structuredClone(value);
      return validate(copy) ? null : toIssues(validate.errors);
    };
  } catch (e) {
    return (e as Error).message;
  } finally {
    try {
      ajv.removeSchema(schema);
    } catch {
      /* never added */
    }
  }
}

function linkKey(link: AgentLink): string {
  return [link.sourceNodeId, link.sourceOutput, link.sinkNodeId, link.sinkInput].join('\0');
}

function describe(node: AgentNode): string {
  if (node.kind === 'block') return `block ${node.blockId}`;
  return `${node.kind} node`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first segment of a JSON pointer, unescaped. */
function topName(path: string): string | undefined {
  const segment = path.split('/')[1];
  return segment === undefined ? undefined : segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `/nodes/<id>[/<segment>...]`, a JSON pointer into the graph that names the node by id. */
export function nodePath(id: string, ...segments: string[]): string {
  return ['', 'nodes', id, ...segments].map(escapePointer).join('/');
}
