/**
 * `npm run bench -- scale`: the scale bench alone (see scale-throughput.ts), without P1–P4.
 * Writes bench/results/scale-latest.json and a timestamped copy, then exits.
 */
import { describeMachine } from './machine.js';
import { describeMachineLine, describeRevisionLine } from './report.js';
import { describeRevision } from './revision.js';
import { runScale, scaleSummary, writeScaleResults } from './scale-throughput.js';
import { readSettings } from './settings.js';

const log = (line: string): void => console.log(line);
const settings = readSettings();
const machine = describeMachine();
const revision = describeRevision();
const startedAt = new Date().toISOString();
log(describeMachineLine(machine));
log(describeRevisionLine(revision));
log(`each measurement ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up (BENCH_SECONDS to change)\n`);
const scale = await runScale(settings, log);
log('');
for (const line of scaleSummary(scale)) log(line);
log('');
const paths = await writeScaleResults({ startedAt, finishedAt: new Date().toISOString(), settings, machine, revision, scale });
log(`results written to ${paths.join(' and ')}`);
process.exit(0);
