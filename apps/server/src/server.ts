import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { ExecutionQueue, ExecutionRunner, ExecutionWorker, Logger, silentLogger } from '@blockyard/core';
import { HttpApp } from '@blockyard/http-koa';
import { describeDatabase, type ServerConfig } from './config.js';
import { composeBlockyard, type Blockyard, type ComposeOptions } from './compose.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly blockyard: Blockyard;
  /** Stops accepting requests, lets runs in flight end (up to the grace period), closes storage. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the HTTP API and the worker in this process. */
export async function startServer(config: ServerConfig, options: ComposeOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const blockyard = await composeBlockyard(config, { ...options, logger });
  const { container } = blockyard;

  try {
    if (!container.get<ExecutionQueue>(ExecutionQueue).durable) {
      const recovered = await container.get(ExecutionRunner).recoverExecutions();
      if (recovered) logger.info('re-enqueued executions left queued or running by the last run', { count: recovered });
    }
    const app = container.get<HttpApp>(HttpApp);
    const handle = app.callback();
    // Requests in flight, so that shutdown lets them answer before storage closes.
    let inFlight = 0;
    let idle: (() => void) | null = null;
    const server = createServer((req, res) => {
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0) idle?.();
      });
      void handle(req, res);
    });
    server.keepAliveTimeout = 65_000;
    await listen(server, config.port, config.host);
    const worker = container.get(ExecutionWorker);
    worker.start();
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info('blockyard listening', { url, database: describeDatabase(config), plugins: blockyard.plugins.filter((p) => p.status === 'loaded').map((p) => p.name) });

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      blockyard,
      close() {
        closing ??= (async () => {
          const deadline = Date.now() + SHUTDOWN_GRACE_MS;
          const untilDeadline = () => new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref());
          // 1. Take no new requests; let those in flight answer (a ?wait= may need the worker).
          const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          if (inFlight > 0) await Promise.race([new Promise<void>((r) => (idle = r)), untilDeadline()]);
          // 2. Take no new jobs; let runs in flight end (what is left is recovered on the next start).
          await container.get<ExecutionQueue>(ExecutionQueue).close();
          await Promise.race([worker.stop(), untilDeadline()]);
          server.closeAllConnections();
          await httpClosed;
          await blockyard.close();
          logger.info('blockyard stopped');
        })();
        return closing;
      },
    };
  } catch (e) {
    await blockyard.close().catch(() => undefined);
    throw e;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use (set PORT)` : `cannot listen on ${host}:${port}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export { Logger };
