/**
 * P5: what scheduling an agent node by node costs, per node.
 *
 * An agent of no-op blocks runs through the real pieces the embedded server uses: core's
 * ExecutionService and worker, the memory storage and the memory queue (every node run is a
 * queue job, every step a storage commit). The baseline is the same number of direct block runs
 * (`BlockEngine.run` of the same block, one after the other) in the same process and run.
 *
 * - chain: input -> n1 -> n2 -> ... -> nN -> output (each node waits for the one before);
 * - fan-out: input -> N independent nodes -> output (up to the per-execution limit at once).
 *
 * Overhead per node = (agent execution time − N direct runs' time) / N, at N = 100, 1,000 and
 * 10,000, so that growth can be checked: linear growth keeps µs per node flat.
 * Target: ≤ 10 µs per node.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { AgentService, BlockEngine, BlockRegistry, coreModule, ExecutionService, ExecutionWorker, UserService, type AgentLink, type AgentNode, type Block } from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';
import type { BenchSettings } from './settings.js';

export const P5_TARGET = { maxMicrosPerNode: 10 } as const;
const SIZES = [100, 1_000, 10_000] as const;
/** Measurements per size and shape; the median is reported. */
const REPEATS = 5;

const noop: Block = {
  definition: {
    id: 'bench.noop',
    name: 'No-op',
    description: 'passes x on (benchmark)',
    categories: ['bench'],
    input_schema: { type: 'object', required: ['x'], properties: { x: { type: 'number' } } },
    output_schema: { type: 'object', properties: { y: { type: 'number' } } },
  },
  handler: ({ x }) => ({ data: { y: x } }),
};

export interface P5Row {
  shape: 'chain' | 'fan-out';
  nodes: number;
  /** Median ms of the agent execution (accept to finished). */
  agentMs: number;
  /** Median ms of the same number of direct block runs. */
  directMs: number;
  microsPerNode: number;
}

export interface P5Result {
  target: typeof P5_TARGET;
  settings: { storage: string; queue: string; workerConcurrency: number; maxConcurrentNodes: number; repeats: number };
  rows: P5Row[];
  /** The worst µs per node at 10,000 nodes. */
  headline: { microsPerNode: number; meetsTarget: boolean };
}

function graph(shape: 'chain' | 'fan-out', n: number): { nodes: AgentNode[]; links: AgentLink[] } {
  const nodes: AgentNode[] = [{ id: 'in', kind: 'input', name: 'x', schema: { type: 'number' }, required: true }];
  const links: AgentLink[] = [];
  const link = (source: string, out: string, sink: string, into: string): AgentLink => ({ sourceNodeId: source, sourceOutput: out, sinkNodeId: sink, sinkInput: into, static: false });
  for (let i = 0; i < n; i++) {
    nodes.push({ id: `n${i}`, kind: 'block', blockId: 'bench.noop', inputs: {}, credentials: {} });
    if (shape === 'chain') links.push(link(i === 0 ? 'in' : `n${i - 1}`, i === 0 ? 'value' : 'y', `n${i}`, 'x'));
    else links.push(link('in', 'value', `n${i}`, 'x'));
  }
  nodes.push({ id: 'out', kind: 'output', name: 'y', schema: { type: 'number' } });
  if (shape === 'chain') links.push(link(`n${n - 1}`, 'y', 'out', 'value'));
  else for (let i = 0; i < n; i++) links.push(link(`n${i}`, 'y', 'out', 'value'));
  return { nodes, links };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function runP5(_settings: BenchSettings, log: (line: string) => void): Promise<P5Result> {
  const workerConcurrency = 16;
  const maxConcurrentNodes = 16;
  const container = new Container();
  container.load(coreModule({ worker: { concurrency: workerConcurrency, pollMs: 5 }, agents: { maxConcurrentNodes } }), memoryStorageModule(), memoryQueueModule());
  const registry = container.get<BlockRegistry>(BlockRegistry);
  const registered = registry.register(noop, 'bench');
  const user = await container.get(UserService).createUser({ email: 'bench@example.com', name: 'Bench' });
  const agents = container.get(AgentService);
  const executions = container.get(ExecutionService);
  const worker = container.get(ExecutionWorker);
  const engine = container.get(BlockEngine);
  worker.start();
  const rows: P5Row[] = [];
  try {
    for (const shape of ['chain', 'fan-out'] as const) {
      for (const n of SIZES) {
        log(`P5 ${shape} of ${n.toLocaleString('en-US')} nodes...`);
        const { agent } = await agents.createAgent(user.id, { name: `${shape} ${n}`, ...graph(shape, n) });
        const agentTimes: number[] = [];
        const directTimes: number[] = [];
        for (let r = 0; r <= REPEATS; r++) {
          let t = performance.now();
          for (let i = 0; i < n; i++) {
            const outcome = await engine.run(registered, { x: i }, { executionId: 'bench' });
            if (outcome.status !== 'completed') throw new Error(`direct run failed: ${outcome.error}`);
          }
          const direct = performance.now() - t;
          t = performance.now();
          const done = await executions.executeAgent(user.id, agent.id, { x: 1 }, { waitMs: 600_000 });
          const took = performance.now() - t;
          if (done.status !== 'completed') throw new Error(`agent execution ${done.status}: ${done.error}`);
          const produced = done.outputs.y?.length ?? 0;
          if (produced !== (shape === 'chain' ? 1 : n)) throw new Error(`agent produced ${produced} outputs`);
          if (r === 0) continue; // warm-up
          directTimes.push(direct);
          agentTimes.push(took);
        }
        const agentMs = median(agentTimes);
        const directMs = median(directTimes);
        rows.push({ shape, nodes: n, agentMs, directMs, microsPerNode: ((agentMs - directMs) * 1000) / n });
      }
    }
  } finally {
    await worker.stop();
  }
  const worst = Math.max(...rows.filter((r) => r.nodes === 10_000).map((r) => r.microsPerNode));
  return {
    target: P5_TARGET,
    settings: { storage: 'memory', queue: 'memory', workerConcurrency, maxConcurrentNodes, repeats: REPEATS },
    rows,
    headline: { microsPerNode: worst, meetsTarget: worst <= P5_TARGET.maxMicrosPerNode },
  };
}

export function p5Summary(p5: P5Result): string[] {
  const lines = [
    `P5 — agent scheduling overhead per node against direct block runs (${p5.settings.storage} storage, ${p5.settings.queue} queue, ${p5.settings.workerConcurrency} worker loops, ${p5.settings.maxConcurrentNodes} nodes at once; median of ${p5.settings.repeats})`,
    '  shape      nodes   agent ms  direct ms  µs/node',
  ];
  for (const r of p5.rows) {
    lines.push(`  ${r.shape.padEnd(8)} ${r.nodes.toLocaleString('en-US').padStart(7)} ${r.agentMs.toFixed(1).padStart(10)} ${r.directMs.toFixed(1).padStart(10)} ${r.microsPerNode.toFixed(1).padStart(8)}`);
  }
  lines.push(`  headline: ${p5.headline.microsPerNode.toFixed(1)} µs per node at 10,000 nodes (worst shape); target ≤ ${p5.target.maxMicrosPerNode} µs: ${p5.headline.meetsTarget ? 'MET' : 'NOT MET'}`);
  return lines;
}
