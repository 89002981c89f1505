/** How long the bench measures, read once from the environment. */
export interface BenchSettings {
  /** Length of each timed measurement, in seconds (BENCH_SECONDS, default 5). */
  readonly seconds: number;
  /** Warm-up before each measurement, in seconds: a fifth of `seconds`, from 0.5 to 2. */
  readonly warmupSeconds: number;
}

const DEFAULT_SECONDS = 5;

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const raw = env.BENCH_SECONDS?.trim();
  let seconds = DEFAULT_SECONDS;
  if (raw) {
    seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
      throw new Error(`BENCH_SECONDS must be a number of seconds above 0 and at most 600 (got ${JSON.stringify(raw)})`);
    }
  }
  return { seconds, warmupSeconds: Math.min(2, Math.max(0.5, seconds / 5)) };
}
