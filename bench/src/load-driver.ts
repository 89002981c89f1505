/**
 * Child-process entry forked by http-load.ts: receives one LoadOptions message, runs
 * autocannon with it, answers with a LoadSummary and exits. Not meant to be run by hand.
 */
import autocannon from 'autocannon';
import type { DriverMessage, LoadOptions, LoadSummary } from './http-load.js';

function summarize(result: autocannon.Result): LoadSummary {
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
  const { latency } = result;
  return {
    responses: result.requests.total,
    durationSeconds: result.duration,
    reqPerSec: result.requests.total / result.duration,
    latencyMs: { mean: latency.mean, p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max },
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

function reply(message: DriverMessage): void {
  process.send!(message, () => process.disconnect());
}

if (!process.send) {
  process.stderr.write('load-driver.js is forked by the bench (http-load.ts); it is not run by hand\n');
  process.exit(2);
}

process.once('message', (options: LoadOptions) => {
  autocannon({
    url: options.url,
    method: options.method,
    headers: options.headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
    connections: options.connections,
    pipelining: options.pipelining,
    duration: options.durationSeconds,
  }).then(
    (result) => reply({ ok: true, summary: summarize(result) }),
    (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
