/**
 * `npm run bench -- external`: the external bench alone (see external-webhooks.ts), without the
 * others. Writes bench/results/external-latest.json and a timestamped copy, then exits.
 */
import { externalSummary, runExternal, writeExternalResults } from './external-webhooks.js';
import { describeMachine } from './machine.js';
import { describeMachineLine, describeRevisionLine } from './report.js';
import { describeRevision } from './revision.js';
import { readSettings } from './settings.js';

const log = (line: string): void => console.log(line);
const settings = readSettings();
const machine = describeMachine();
const revision = describeRevision();
const startedAt = new Date().toISOString();
log(describeMachineLine(machine));
log(describeRevisionLine(revision));
log(`each measurement ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up (BENCH_SECONDS to change)\n`);
const external = await runExternal(settings, log);
log('');
for (const line of externalSummary(external)) log(line);
log('');
const paths = await writeExternalResults({ startedAt, finishedAt: new Date().toISOString(), settings, machine, revision, external });
log(`results written to ${paths.join(' and ')}`);
process.exit(0);
