/**
 * Preloaded (node --import) into every process of the end-to-end run on PostgreSQL + BullMQ
 * (`npm run test:e2e:scale`, scripts/test-e2e-scale.mjs). That run points every server and CLI
 * process at one PostgreSQL database and one Redis; this keeps the tests apart as separate
 * SQLite files and memory queues would: each data dir gets its own schema and its own queue.
 * A test that chose a database of its own (to share it between processes) keeps it whole.
 * Does nothing outside that run.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

const env = process.env;
const run = env.BLOCKYARD_E2E_SCALE_RUN;
if (run && env.BLOCKYARD_DATA_DIR) {
  const id = createHash('sha256').update(resolve(env.BLOCKYARD_DATA_DIR)).digest('hex').slice(0, 12);
  if (!env.BLOCKYARD_DATABASE_SCHEMA && env.BLOCKYARD_DATABASE_URL === env.BLOCKYARD_E2E_SCALE_DATABASE_URL) env.BLOCKYARD_DATABASE_SCHEMA = `e2e_${id}`;
  if (!env.BLOCKYARD_QUEUE_NAME) env.BLOCKYARD_QUEUE_NAME = `e2e-${run}-${id}`;
}
