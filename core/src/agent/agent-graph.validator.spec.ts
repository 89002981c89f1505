import { expect } from 'chai';
import { ValidationError } from '../errors/domain.errors.js';
import { agentSpecBlocks, credentialLookup, diamondGraph, input, link, node, output } from './agent-graph.fixtures.js';
import { agentGraphIssues, validateAgentGraph, type AgentGraphIssue, type AgentGraphValidationContext } from './agent-graph.validator.js';
import type { AgentGraph } from './agent.js';

const blocks = agentSpecBlocks();
const github = { id: 'cred-gh', provider: 'github', kind: 'api_key' as const, scopes: ['github:repo.read', 'github:repo.write'] };

function issuesOf(graph: AgentGraph, context: Partial<AgentGraphValidationContext> = {}): AgentGraphIssue[] {
  return agentGraphIssues(graph, { blocks, credentials: credentialLookup(github), ...context });
}

/** The one issue there must be; its node ids must appear in both its path and message. */
function onlyIssue(graph: AgentGraph, context: Partial<AgentGraphValidationContext> = {}): AgentGraphIssue {
  const issues = issuesOf(graph, context);
  expect(issues, JSON.stringify(issues)).to.have.length(1);
  return issues[0]!;
}

describe('validateAgentGraph', () => {
  describe('valid graphs', () => {
    it('accepts a diamond: two branches from one input joined again', () => {
      expect(issuesOf(diamondGraph())).to.deep.equal([]);
      expect(validateAgentGraph(diamondGraph(), { blocks, credentials: credentialLookup() })).to.equal(null);
    });

    it('accepts fan-out to many sinks from one output and a chain with fixed values', () => {
      const graph = {
        nodes: [node('src', 't.source'), node('e1', 't.echo'), node('e2', 't.echo'), node('e3', 't.echo', { text: 'fixed', times: 3 }), output('o1'), output('o2')],
        links: [link('src', 'text', 'e1', 'text'), link('src', 'text', 'e2', 'text'), link('e1', 'text', 'o1', 'value'), link('e2', 'text', 'o2', 'value'), link('e3', 'text', 'o1', 'value')],
      };
      expect(issuesOf(graph)).to.deep.equal([]);
    });

    it('accepts a chain of 10,000 nodes', () => {
      const nodes = [input('in'), ...Array.from({ length: 10_000 }, (_, i) => node(`n${i}`, 't.echo'))];
      const links = [link('in', 'value', 'n0', 'text'), ...Array.from({ length: 9_999 }, (_, i) => link(`n${i}`, 'text', `n${i + 1}`, 'text'))];
      expect(issuesOf({ nodes, links })).to.deep.equal([]);
    });
  });

  describe('nodes', () => {
    it('reports a node id used twice', () => {
      const issue = onlyIssue({ nodes: [node('x', 't.source'), node('x', 't.source')], links: [] });
      expect(issue).to.deep.include({ path: '/nodes/x', nodeIds: ['x'] });
      expect(issue.message).to.contain('"x"').and.contain('2 nodes');
    });

    it('reports an unknown block at the node', () => {
      const issue = onlyIssue({ nodes: [node('n1', 'nope.block')], links: [] });
      expect(issue).to.deep.include({ path: '/nodes/n1/block_id', nodeIds: ['n1'] });
      expect(issue.message).to.contain('"n1"').and.contain('unknown block nope.block');
    });

    it('escapes node ids in paths as JSON pointers', () => {
      expect(onlyIssue({ nodes: [node('a/b~c', 'nope.block')], links: [] }).path).to.equal('/nodes/a~1b~0c/block_id');
    });

    it('reports agent input names and output names used twice, naming every node', () => {
      const issues = issuesOf({
        nodes: [input('i1', 'topic'), input('i2', 'topic'), output('o1', 'result'), output('o2', 'result'), output('o3', 'topic')],
        links: [],
      });
      expect(issues.map((i) => [i.path, i.nodeIds])).to.deep.equal([
        ['/nodes/i1/name', ['i1', 'i2']],
        ['/nodes/o1/name', ['o1', 'o2']],
      ]);
      expect(issues[0]!.message).to.contain('"i1"').and.contain('"i2"').and.contain('"topic"');
    });

    it('reports an input node schema that is no JSON Schema and a default its schema rejects', () => {
      const issues = issuesOf({
        nodes: [input('bad', 'bad', { type: 'nonsense' }, { required: false }), input('def', 'def', { type: 'integer' }, { required: false, default: 'three' }), output('out', 'out', { type: 'wrong' })],
        links: [],
      });
      expect(issues.map((i) => i.path)).to.deep.equal(['/nodes/bad/schema', '/nodes/def/default', '/nodes/out/schema']);
      expect(issues[1]!.message).to.contain('"def"').and.contain('must be integer');
    });
  });

  describe('fixed inputs', () => {
    it('reports a fixed value for an input the block does not have', () => {
      const issue = onlyIssue({ nodes: [node('e', 't.echo', { text: 'hi', colour: 'red' })], links: [] });
      expect(issue).to.deep.include({ path: '/nodes/e/inputs/colour', nodeIds: ['e'] });
      expect(issue.message).to.contain('"e"').and.contain('t.echo has no input "colour"');
    });

    it("reports fixed values the block's own validator rejects", () => {
      const issues = issuesOf({ nodes: [node('e', 't.echo', { text: 5, times: 0 })], links: [] });
      expect(issues.map((i) => i.path).sort()).to.deep.equal(['/nodes/e/inputs/text', '/nodes/e/inputs/times']);
      expect(issues.map((i) => i.message).join('\n')).to.contain('must be string').and.contain('must be >= 1');
      for (const issue of issues) expect(issue.message).to.contain('"e"');
    });
  });

  describe('required inputs', () => {
    it('reports a required input with no fixed value, default or link', () => {
      const issue = onlyIssue({ nodes: [node('j', 't.join', { a: 'x' })], links: [] });
      expect(issue).to.deep.include({ path: '/nodes/j/inputs/b', nodeIds: ['j'] });
      expect(issue.message).to.contain('"j"').and.contain('required input "b"');
    });

    it('is satisfied by a fixed value, a link, or a default', () => {
      expect(issuesOf({ nodes: [node('j', 't.join', { a: 'x' }), node('s', 't.source')], links: [link('s', 'text', 'j', 'b')] })).to.deep.equal([]);
      expect(issuesOf({ nodes: [node('g', 't.greet')], links: [] })).to.deep.equal([]);
    });
  });

  describe('links', () => {
    it('reports links to and from unknown nodes', () => {
      const issues = issuesOf({ nodes: [node('s', 't.source'), output('o')], links: [link('ghost', 'text', 'o', 'value'), link('s', 'text', 'phantom', 'value')] });
      expect(issues.map((i) => [i.path, i.nodeIds])).to.deep.equal([
        ['/links/0/source_node_id', ['ghost']],
        ['/links/1/sink_node_id', ['phantom']],
      ]);
      expect(issues[0]!.message).to.contain('"ghost"');
      expect(issues[1]!.message).to.contain('"phantom"');
    });

    it('reports an unknown output on a source and an unknown input on a sink, for blocks and agent ports', () => {
      const issues = issuesOf({
        nodes: [input('in'), node('s', 't.source'), node('e', 't.echo', { text: 'x' }), output('out')],
        links: [link('s', 'nope', 'e', 'text'), link('s', 'text', 'e', 'missing'), link('in', 'other', 'out', 'value'), link('in', 'value', 'out', 'result'), link('out', 'value', 'e', 'text'), link('s', 'text', 'in', 'value')],
      });
      expect(issues.map((i) => [i.path, i.nodeIds])).to.deep.equal([
        ['/nodes/s/outputs/nope', ['s']],
        ['/nodes/e/inputs/missing', ['e']],
        ['/nodes/in/outputs/other', ['in']],
        ['/nodes/out/inputs/result', ['out']],
        ['/nodes/out/outputs/value', ['out']],
        ['/nodes/in/inputs/value', ['in']],
      ]);
      expect(issues[0]!.message).to.contain('"s"').and.contain('t.source has no output "nope"');
      expect(issues[1]!.message).to.contain('"e"').and.contain('t.echo has no input "missing"');
    });

    it('reports a link between schemas whose declared types do not overlap', () => {
      const issue = onlyIssue({ nodes: [node('s', 't.source'), node('n', 't.number')], links: [link('s', 'text', 'n', 'n')] });
      expect(issue).to.deep.include({ path: '/nodes/n/inputs/n', nodeIds: ['s', 'n'] });
      expect(issue.message).to.contain('"n"').and.contain('"s"').and.contain('number').and.contain('string');
    });

    it('accepts integer into number, and links where either side declares no type', () => {
      const graph = {
        nodes: [node('s', 't.source'), node('n', 't.number'), node('e', 't.echo'), input('in', 'in', {}), output('o', 'o', { type: 'boolean' })],
        links: [link('s', 'count', 'n', 'n'), link('s', 'any', 'e', 'text'), link('in', 'value', 'o', 'value')],
      };
      expect(issuesOf(graph)).to.deep.equal([]);
    });

    it('checks agent input and output node schemas against what they link to', () => {
      const issues = issuesOf({
        nodes: [input('in', 'n', { type: 'integer' }), node('e', 't.echo'), output('o', 'o', { type: 'number' })],
        links: [link('in', 'value', 'e', 'text'), link('e', 'text', 'o', 'value')],
      });
      expect(issues.map((i) => [i.path, i.nodeIds])).to.deep.equal([
        ['/nodes/e/inputs/text', ['in', 'e']],
        ['/nodes/o/inputs/value', ['e', 'o']],
      ]);
    });

    it('reports a link given twice', () => {
      const issue = onlyIssue({ nodes: [node('s', 't.source'), node('e', 't.echo')], links: [link('s', 'text', 'e', 'text'), link('s', 'text', 'e', 'text', true)] });
      expect(issue).to.deep.include({ path: '/links/1', nodeIds: ['s', 'e'] });
    });
  });

  describe('credentials', () => {
    const issueNode = (credentials: Record<string, string>) => ({ nodes: [node('gh', 't.issue', { title: 't' }, credentials)], links: [] });

    it('accepts a credential of the right provider, kind and scopes', () => {
      expect(issuesOf(issueNode({ credentials: 'cred-gh' }))).to.deep.equal([]);
    });

    it("reports a credential that is not found (unknown or someone else's)", () => {
      const issue = onlyIssue(issueNode({ credentials: 'cred-other' }));
      expect(issue).to.deep.include({ path: '/nodes/gh/credentials/credentials', nodeIds: ['gh'] });
      expect(issue.message).to.contain('"gh"').and.contain('credential cred-other not found');
    });

    it('reports a credential of the wrong provider, the wrong kind, or lacking a scope', () => {
      const credentials = credentialLookup(
        { id: 'cred-slack', provider: 'slack', kind: 'oauth2', scopes: [] },
        { id: 'cred-basic', provider: 'github', kind: 'user_password', scopes: ['github:repo.write'] },
        { id: 'cred-read', provider: 'github', kind: 'oauth2', scopes: ['github:repo.read'] },
      );
      const graph = {
        nodes: [node('a', 't.issue', { title: 't' }, { credentials: 'cred-slack' }), node('b', 't.issue', { title: 't' }, { credentials: 'cred-basic' }), node('c', 't.issue', { title: 't' }, { credentials: 'cred-read' })],
        links: [],
      };
      const issues = issuesOf(graph, { credentials });
      expect(issues.map((i) => i.path)).to.deep.equal(['/nodes/a/credentials/credentials', '/nodes/b/credentials/credentials', '/nodes/c/credentials/credentials']);
      expect(issues[0]!.message).to.contain('"a"').and.contain('is for slack').and.contain('needs a credential for github');
      expect(issues[1]!.message).to.contain('"b"').and.contain('is user_password').and.contain('api_key or oauth2');
      expect(issues[2]!.message).to.contain('"c"').and.contain('github:repo.write');
    });

    it('reports a credential for a block that takes none, or under another name', () => {
      const issues = issuesOf({ nodes: [node('e', 't.echo', { text: 'x' }, { credentials: 'cred-gh' }), node('gh', 't.issue', { title: 't' }, { token: 'cred-gh' })], links: [] });
      expect(issues.map((i) => i.path)).to.deep.equal(['/nodes/e/credentials/credentials', '/nodes/gh/credentials/token']);
      expect(issues[0]!.message).to.contain('takes no credential');
      expect(issues[1]!.message).to.contain('no credential input "token"');
    });

    it('reports a node naming no credential only when the provider has no system credential', () => {
      expect(issuesOf(issueNode({}))).to.deep.equal([]);
      expect(issuesOf(issueNode({}), { systemCredentialProviders: ['github'] })).to.deep.equal([]);
      const issue = onlyIssue(issueNode({}), { systemCredentialProviders: ['slack'] });
      expect(issue).to.deep.include({ path: '/nodes/gh/credentials/credentials', nodeIds: ['gh'] });
      expect(issue.message).to.contain('"gh"').and.contain('needs a credential for github');
    });
  });

  describe('cycles', () => {
    it("rejects a cycle naming the cycle's nodes, and only them", () => {
      const graph = {
        nodes: [input('in'), node('a', 't.join'), node('b', 't.echo'), node('c', 't.echo'), output('out')],
        links: [link('in', 'value', 'a', 'a'), link('a', 'text', 'b', 'text'), link('b', 'text', 'c', 'text'), link('c', 'text', 'a', 'b'), link('c', 'text', 'out', 'value')],
      };
      const issue = onlyIssue(graph);
      expect(issue.nodeIds).to.deep.equal(['a', 'b', 'c']);
      expect(issue.path).to.equal('/nodes/a');
      expect(issue.message).to.equal('nodes form a cycle: "a" -> "b" -> "c" -> "a"');
    });

    it('reports a node linked to itself', () => {
      const issue = onlyIssue({ nodes: [node('e', 't.echo', { text: 'x' })], links: [link('e', 'text', 'e', 'text')] });
      expect(issue).to.deep.include({ path: '/nodes/e', nodeIds: ['e'] });
      expect(issue.message).to.contain('"e"').and.contain('itself');
    });

    it('reports each separate cycle once', () => {
      const graph = {
        nodes: [node('a', 't.echo'), node('b', 't.echo'), node('x', 't.echo'), node('y', 't.echo'), node('z', 't.echo')],
        links: [link('a', 'text', 'b', 'text'), link('b', 'text', 'a', 'text'), link('x', 'text', 'y', 'text'), link('y', 'text', 'z', 'text'), link('z', 'text', 'x', 'text')],
      };
      expect(issuesOf(graph).map((i) => i.nodeIds)).to.deep.equal([
        ['a', 'b'],
        ['x', 'y', 'z'],
      ]);
    });

    it('names every node of intertwined cycles with one example cycle', () => {
      const graph = {
        nodes: [node('a', 't.join'), node('b', 't.echo'), node('c', 't.echo')],
        links: [link('a', 'text', 'b', 'text'), link('b', 'text', 'a', 'a'), link('a', 'text', 'c', 'text'), link('c', 'text', 'a', 'b')],
      };
      const issue = onlyIssue(graph);
      expect(issue.nodeIds).to.deep.equal(['a', 'b', 'c']);
      expect(issue.message).to.contain('"a", "b", "c" are on cycles').and.contain('"a" -> "b" -> "a"');
    });
  });

  describe('trigger blocks', () => {
    it('accepts a trigger with no incoming links: its payload comes from the webhook', () => {
      const graph = { nodes: [node('t', 't.trigger'), output('o', 'event')], links: [link('t', 'event', 'o', 'value')] };
      expect(issuesOf(graph)).to.deep.equal([]);
    });

    it('reports a link into a trigger', () => {
      const issue = onlyIssue({ nodes: [node('s', 't.source'), node('t', 't.trigger')], links: [link('s', 'data', 't', 'payload')] });
      expect(issue).to.deep.include({ path: '/nodes/t/inputs/payload', nodeIds: ['t'] });
      expect(issue.message).to.contain('"t"').and.contain('trigger');
    });
  });

  describe('several problems', () => {
    it('reports them all at once, each naming its node in path and message, in one ValidationError', () => {
      const graph = {
        nodes: [
          node('dup', 't.source'),
          node('dup', 't.source'),
          node('ghost', 'no.such'),
          node('join', 't.join', { a: 'fixed' }),
          node('e1', 't.echo', { times: 'many' }),
          node('e2', 't.echo'),
          node('gh', 't.issue', { title: 't' }, { credentials: 'cred-missing' }),
          output('out'),
        ],
        links: [link('e1', 'text', 'e2', 'text'), link('e2', 'text', 'e1', 'text'), link('dup', 'nope', 'out', 'value')],
      };
      const error = validateAgentGraph(graph, { blocks, credentials: credentialLookup(github) });
      expect(error).to.be.instanceOf(ValidationError);
      const issues = error!.issues as AgentGraphIssue[];
      expect(issues.map((i) => i.path)).to.deep.equal([
        '/nodes/dup',
        '/nodes/ghost/block_id',
        '/nodes/e1/inputs/times',
        '/nodes/gh/credentials/credentials',
        '/nodes/dup/outputs/nope',
        '/nodes/join/inputs/b',
        '/nodes/e1',
      ]);
      for (const issue of issues) {
        expect(issue.path, issue.message).to.match(new RegExp(`^/nodes/${issue.nodeIds[0]}(/|$)`));
        for (const id of issue.nodeIds) expect(issue.message).to.contain(`"${id}"`);
      }
      expect(issues[6]!.nodeIds).to.deep.equal(['e1', 'e2']);
      expect(error!.message).to.match(/^invalid agent graph \(7 problems\): /);
      for (const issue of issues) expect(error!.message).to.contain(issue.message);
    });
  });
});
