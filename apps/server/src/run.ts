import { ConfigError, readConfig } from './config.js';
import { PinoLogger } from './pino-logger.js';
import { startServer } from './server.js';

/**
 * `npm start` / `blockyard serve`: runs what BLOCKYARD_ROLE says (the API and the worker by
 * default) until SIGINT or SIGTERM. Bad configuration exits 2, a failed start 1.
 */
export async function runServerFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = readConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`blockyard: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = PinoLogger.create(config.logLevel);
  // Signals are handled from the start: one that arrives while starting stops the server as
  // soon as it is up, instead of killing it half-way.
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let stopSignal: string | null = null;
  const stop = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (server) shutDown(server, signal);
  };
  const shutDown = (running: NonNullable<typeof server>, signal: string) => {
    logger.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error('shutdown failed', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    server = await startServer(config, { logger });
  } catch (e) {
    logger.error(`blockyard could not start: ${(e as Error).message}`);
    process.stderr.write(`blockyard: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (stopSignal) shutDown(server, stopSignal);
}

