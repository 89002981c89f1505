/**
 * Fixed-duration throughput measurement for in-process operations.
 *
 * A "batch" runs some operations and says how many; batches repeat until the time is up,
 * so the clock is read once per batch, not once per operation.
 */
export type Batch = () => Promise<number> | number;

export interface Throughput {
  ops: number;
  seconds: number;
  opsPerSec: number;
  nsPerOp: number;
}

/** Runs `batch` repeatedly for `seconds` and returns the operations done per second. */
export async function measure(batch: Batch, seconds: number): Promise<Throughput> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let ops = 0;
  let now = started;
  do {
    ops += await batch();
    now = performance.now();
  } while (now < deadline);
  return throughput(ops, (now - started) / 1000);
}

export function throughput(ops: number, seconds: number): Throughput {
  return { ops, seconds, opsPerSec: ops / seconds, nsPerOp: (seconds * 1e9) / ops };
}

export interface RoundedThroughput extends Throughput {
  /** ops/s of each round, to show how steady the measurement was. */
  roundsOpsPerSec: number[];
}

/** Adds up measurements of the same thing taken in several rounds. */
export function combine(parts: readonly Throughput[]): RoundedThroughput {
  const ops = parts.reduce((sum, p) => sum + p.ops, 0);
  const seconds = parts.reduce((sum, p) => sum + p.seconds, 0);
  return { ...throughput(ops, seconds), roundsOpsPerSec: parts.map((p) => Math.round(p.opsPerSec)) };
}
