/** Human-readable summary lines and the results files. */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';
import type { P1Result } from './p1-engine.js';
import type { CodeRevision } from './revision.js';
import type { P2Result, P2Subject } from './p2-http.js';
import type { BenchSettings } from './settings.js';
import type { RoundedThroughput } from './timing.js';

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  settings: BenchSettings;
  machine: MachineInfo;
  revision: CodeRevision;
  p1: P1Result;
  p2: P2Result;
}

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Writes results/latest.json and results/<ISO date>.json (colons as dashes); returns both paths. */
export async function writeResults(results: BenchResults): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const paths = [`${RESULTS_DIR}latest.json`, `${RESULTS_DIR}${results.startedAt.replace(/:/g, '-')}.json`];
  for (const path of paths) await writeFile(path, json);
  return paths;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 2): string => n.toFixed(digits);
const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  '));
}

export function describeMachineLine(machine: MachineInfo): string {
  return `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemoryMiB} MiB, load ${machine.loadAverage1m}; node ${machine.node} (${machine.platform}/${machine.arch})`;
}

export function describeRevisionLine(revision: CodeRevision): string {
  const changes = revision.uncommittedFiles === null ? 'unknown' : revision.uncommittedFiles.length === 0 ? 'none' : `${revision.uncommittedFiles.length} files`;
  return `code: commit ${revision.commit?.slice(0, 12) ?? 'unknown'}, uncommitted changes: ${changes}`;
}

export function p1Summary(p1: P1Result): string[] {
  const spread = (t: RoundedThroughput): string => `${int(Math.min(...t.roundsOpsPerSec))}–${int(Math.max(...t.roundsOpsPerSec))}`;
  const rows = [['', 'ops/s', 'rounds min–max', 'ns/op', '× baseline']];
  rows.push([`baseline: ${p1.baseline.what}`, int(p1.baseline.opsPerSec), spread(p1.baseline), fixed(p1.baseline.nsPerOp, 1), '1.00']);
  for (const r of p1.references) rows.push([`reference: ${r.name}`, int(r.opsPerSec), spread(r), fixed(r.nsPerOp, 1), fixed(r.nsPerOp / p1.baseline.nsPerOp)]);
  for (const v of p1.variants) rows.push([`engine, ${v.name}`, int(v.result.opsPerSec), spread(v.result), fixed(v.result.nsPerOp, 1), fixed(v.ratio)]);
  const h = p1.headline;
  return [
    'P1 — in-process no-op block executions, validation on',
    ...table(rows).map((line) => `  ${line}`),
    `  headline (best variant: ${h.name}): ${int(h.result.opsPerSec)} ops/s, ${fixed(h.ratio)} × baseline`,
    `  target ≥ ${int(p1.target.opsPerSec)} ops/s: ${verdict(h.meetsOpsTarget)}`,
    `  target ≤ ${p1.target.maxRatio} × baseline ns/op: ${verdict(h.meetsRatioTarget)}`,
  ];
}

function p2Row(subject: P2Subject): string[] {
  const { load } = subject;
  return [
    subject.name,
    int(load.reqPerSec),
    fixed(load.latencyMs.p50, 1),
    fixed(load.latencyMs.p99, 1),
    int(load.responses),
    String(load.non2xx),
    String(load.errors),
    subject.valid ? 'yes' : 'NO',
  ];
}

export function p2Summary(p2: P2Result): string[] {
  const s = p2.settings;
  const rows = [['', 'req/s', 'p50 ms', 'p99 ms', 'responses', 'non-2xx', 'errors', 'valid'], p2Row(p2.baseline), p2Row(p2.blockyard)];
  const lines = [
    `P2 — POST ${s.path}, ${s.connections} connections, pipelining ${s.pipelining}, ${s.durationSeconds} s (${s.loadGenerator})`,
    `  server: ${p2.server.database}, worker concurrency ${p2.server.workerConcurrency}, log level ${p2.server.logLevel}`,
    ...table(rows).map((line) => `  ${line}`),
    `  ratio Blockyard ÷ bare Koa: ${fixed(p2.ratio * 100, 1)} %`,
    `  target ≥ ${p2.target.minRatio * 100} % of bare Koa: ${p2.valid ? verdict(p2.meetsTarget) : 'INVALID RUN (non-2xx answers or errors)'}`,
  ];
  for (const subject of [p2.baseline, p2.blockyard]) {
    if (!subject.valid) lines.push(`  ${subject.name} status codes: ${JSON.stringify(subject.load.statusCodes)}, timeouts ${subject.load.timeouts}`);
  }
  return lines;
}
