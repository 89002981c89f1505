import { randomBytes } from 'node:crypto';

/** The Redis the specs run against. */
export const TEST_REDIS_URL = process.env['BLOCKYARD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A fresh queue name, so that concurrent or crashed test runs never share jobs. */
export function testQueueName(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}
