/**
 * `npm run bench -- <name>`: one of the process-spawning benches alone, without P1–P5 (`scale`:
 * worker processes on BullMQ, see scale-throughput.ts; `external`: execute → webhook, see
 * external-webhooks.ts). Writes bench/results/<name>-latest.json and a timestamped copy.
 */
import { describeMachine } from './machine.js';
import { describeMachineLine, describeRevisionLine } from './report.js';
import { describeRevision } from './revision.js';
import { readSettings, type BenchSettings } from './settings.js';

interface AloneBench {
  run(settings: BenchSettings, log: (line: string) => void): Promise<unknown>;
  summary(result: never): string[];
  write(results: { startedAt: string } & Record<string, unknown>): Promise<string[]>;
}

const BENCHES: Record<string, () => Promise<AloneBench>> = {
  scale: async () => {
    const m = await import('./scale-throughput.js');
    return { run: m.runScale, summary: m.scaleSummary, write: m.writeScaleResults };
  },
  external: async () => {
    const m = await import('./external-webhooks.js');
    return { run: m.runExternal, summary: m.externalSummary, write: m.writeExternalResults };
  },
};

/** The bench named among `args`, if any. */
export function aloneBenchIn(args: readonly string[]): string | undefined {
  return args.find((arg) => arg in BENCHES);
}

export async function runAlone(name: string, log: (line: string) => void): Promise<void> {
  const bench = await BENCHES[name]!();
  const settings = readSettings();
  const machine = describeMachine();
  const revision = describeRevision();
  const startedAt = new Date().toISOString();
  log(describeMachineLine(machine));
  log(describeRevisionLine(revision));
  log(`each measurement ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up (BENCH_SECONDS to change)\n`);
  const result = await bench.run(settings, log);
  log('');
  for (const line of bench.summary(result as never)) log(line);
  log('');
  const paths = await bench.write({ startedAt, finishedAt: new Date().toISOString(), settings, machine, revision, [name]: result });
  log(`results written to ${paths.join(' and ')}`);
}
