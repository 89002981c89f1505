/**
 * `npm run bench`: runs P1 (engine, in process), P2 (HTTP), P3 (context.fetch), P4 (credential resolution), P5 (agent scheduling), external (execute → webhook against /api/v1; alone: `npm run bench -- external`) then scale (worker processes on BullMQ; alone: `npm run bench -- scale`), prints a summary and writes
 * bench/results/latest.json plus a timestamped copy. Every ratio compares against a baseline
 * measured in this same run. Targets are informational: the exit code is 0 unless the bench
 * itself crashes. See bench/README.md.
 */
import { describeMachine } from './machine.js';
import { runP1 } from './p1-engine.js';
import { describeMachineLine, describeRevisionLine, p1Summary, p2Summary, writeResults } from './report.js';
import { describeRevision } from './revision.js';
import { readSettings } from './settings.js';
import { aloneBenchIn, runAlone } from './run-alone.js';

const log = (line: string): void => console.log(line);
// `npm run bench -- scale` or `-- external`: that bench alone.
const alone = aloneBenchIn(process.argv.slice(2));
if (alone) {
  await runAlone(alone, log);
  process.exit(0);
}

const settings = readSettings();
const machine = describeMachine();
const revision = describeRevision();
const startedAt = new Date().toISOString();
log(describeMachineLine(machine));
log(describeRevisionLine(revision));
log(`each measurement ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up (BENCH_SECONDS to change)\n`);

const p1 = await runP1(settings, log);
log('');
for (const line of p1Summary(p1)) log(line);
log('');

// Loaded only now: P1 measures the engine with nothing but @blockyard/core loaded. With the
// server's whole module graph in the heap, the engine's GC behaviour turns erratic (see
// bench/README.md), which would make P1 depend on what else happens to be loaded.
const { runP2 } = await import('./p2-http.js');
const p2 = await runP2(settings, log);
log('');
for (const line of p2Summary(p2)) log(line);
log('');

const { runP3, p3Summary } = await import('./p3-context-fetch.js');
const p3 = await runP3(settings, log);
log('');
for (const line of p3Summary(p3)) log(line);
log('');

const { runP4, p4Summary } = await import('./p4-credential-resolution.js');
const p4 = await runP4(settings, log);
log('');
for (const line of p4Summary(p4)) log(line);
log('');

const { runP5, p5Summary } = await import('./p5-agent-scheduling.js');
const p5 = await runP5(settings, log);
log('');
for (const line of p5Summary(p5)) log(line);
log('');

const { runExternal, externalSummary } = await import('./external-webhooks.js');
const external = await runExternal(settings, log);
log('');
for (const line of externalSummary(external)) log(line);
log('');

const { runScale, scaleSummary } = await import('./scale-throughput.js');
const scale = await runScale(settings, log);
log('');
for (const line of scaleSummary(scale)) log(line);
log('');

const results = { startedAt, finishedAt: new Date().toISOString(), settings, machine, revision, p1, p2, p3, p4, p5, external, scale };
const paths = await writeResults(results);
log(`results written to ${paths.join(' and ')}`);
