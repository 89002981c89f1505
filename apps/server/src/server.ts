import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Clock, ExecutionQueue, ExecutionRunner, ExecutionWorker, Logger, silentLogger, WebhookDeliveryPruning, WebhookRepository } from '@blockyard/core';
import { HttpApp } from '@blockyard/http-koa';
import { describeDatabase, describeQueue, type ServerConfig, type ServerRole } from './config.js';
import { composeBlockyard, type Blockyard, type ComposeOptions } from './compose.js';
import { describeRateLimits } from './rate-limits.js';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.js';
import { clientWebhookOptionsFromConfig } from './client-webhook-options.js';
import { startClientWebhookLoop } from './client-webhook-loop.js';

export interface RunningServer {
  /**
   * The HTTP API's base URL. For role worker, which serves no API, the base URL of its
   * health endpoint (BLOCKYARD_HEALTH_PORT), or '' when it has none.
   */
  readonly url: string;
  /** The port `url` is on; 0 when there is no listener. */
  readonly port: number;
  readonly role: ServerRole;
  readonly blockyard: Blockyard;
  /** Stops accepting requests, lets runs in flight end (up to the grace period), closes storage. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** How often a process serving the API prunes old webhook delivery records. */
const DELIVERY_PRUNING_INTERVAL_MS = 3_600_000;

/**
 * Starts what the configured role runs in this process: the HTTP API (`api`), the worker
 * (`worker`), or both (`all`, the default). API and worker processes share the work through a
 * queue that crosses processes (BLOCKYARD_QUEUE=bullmq).
 */
export async function startServer(config: ServerConfig, options: ComposeOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const role = config.role ?? 'all';
  const servesApi = role !== 'worker';
  const runsWorker = role !== 'api';
  const blockyard = await composeBlockyard(config, { ...options, logger });
  const { container } = blockyard;
  const queue = container.get<ExecutionQueue>(ExecutionQueue);

  let server: Server | null = null;
  let pruning: PeriodicTask | null = null;
  let outboundWebhooks: PeriodicTask | null = null;
  try {
    // A queue that keeps nothing across restarts loses the jobs of the last run: enqueue again
    // what storage holds as queued or running. A durable queue still has them.
    if (runsWorker && !queue.durable) {
      const recovered = await container.get(ExecutionRunner).recoverExecutions();
      if (recovered) logger.info('re-enqueued executions left queued or running by the last run', { count: recovered });
    }
    // Requests in flight, so that shutdown lets them answer before storage closes.
    let inFlight = 0;
    let idle: (() => void) | null = null;
    const track = (handle: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0) idle?.();
      });
      handle(req, res);
    };
    if (servesApi) {
      await blockyard.authorizationServer.start(); // loads the OAuth signing keys: bad ones fail the start
      const handle = container.get<HttpApp>(HttpApp).callback();
      server = createServer(track((req, res) => void handle(req, res)));
      server.keepAliveTimeout = 65_000;
      await listen(server, config.port, config.host);
    } else if (config.healthPort !== null && config.healthPort !== undefined) {
      server = createServer(track(workerHealth));
      await listen(server, config.healthPort, config.host, 'BLOCKYARD_HEALTH_PORT');
    }
    const worker = runsWorker ? container.get(ExecutionWorker) : null;
    worker?.start();
    // Outbound webhooks are sent where executions run (their events are enqueued there).
    if (runsWorker) outboundWebhooks = startClientWebhookLoop(container, clientWebhookOptionsFromConfig(config), logger);
    // The API records inbound webhook deliveries (to spot a provider's retries); it also forgets
    // them once no provider retries any more: at start, then hourly.
    if (servesApi) {
      const deliveries = new WebhookDeliveryPruning(
        { webhooks: container.get<WebhookRepository>(WebhookRepository), clock: container.get<Clock>(Clock), logger },
        config.webhookDeliveryKeepDays,
      );
      pruning = startPeriodicTask('prune webhook delivery records', () => deliveries.prune(), DELIVERY_PRUNING_INTERVAL_MS, logger);
    }

    const port = server ? (server.address() as AddressInfo).port : 0;
    const url = server ? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}` : '';
    const loaded = blockyard.plugins.filter((p) => p.status === 'loaded').map((p) => p.name);
    if (servesApi) logger.info('blockyard listening', { url, role, database: describeDatabase(config), queue: describeQueue(config), rateLimits: describeRateLimits(config), plugins: loaded });
    else logger.info('blockyard worker ready', { role, concurrency: config.workerConcurrency, health: url || null, database: describeDatabase(config), queue: describeQueue(config), plugins: loaded });

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      role,
      blockyard,
      close() {
        closing ??= (async () => {
          const deadline = Date.now() + SHUTDOWN_GRACE_MS;
          const untilDeadline = () => new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref());
          // Prune no more; a run in flight ends before storage closes.
          const pruningStopped = pruning?.stop();
          // 1. Take no new requests; let those in flight answer (a ?wait= may need the worker).
          const httpClosed = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
          server?.closeIdleConnections();
          if (inFlight > 0) await Promise.race([new Promise<void>((r) => (idle = r)), untilDeadline()]);
          // 2. Take no new jobs; let runs in flight end (a durable queue, or recovery on the next
          //    start, gives what is left to a worker).
          await queue.close();
          if (worker) await Promise.race([worker.stop(), untilDeadline()]);
          // Send no more webhooks; an attempt in flight records its result (or its claim lapses and another process retries it).
          if (outboundWebhooks) await Promise.race([outboundWebhooks.stop(), untilDeadline()]);
          server?.closeAllConnections();
          await httpClosed;
          await pruningStopped;
          await blockyard.close();
          logger.info('blockyard stopped', { role });
        })();
        return closing;
      },
    };
  } catch (e) {
    await pruning?.stop();
    await outboundWebhooks?.stop();
    server?.close();
    await blockyard.close().catch(() => undefined);
    throw e;
  }
}

/** Role worker's GET /healthz: it is up and taking jobs. */
function workerHealth(req: IncomingMessage, res: ServerResponse): void {
  const answer = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url !== '/healthz' && !req.url?.startsWith('/healthz?')) return answer(404, { detail: 'not found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { detail: 'method not allowed' });
  answer(200, { status: 'ok', role: 'worker' });
}

function listen(server: Server, port: number, host: string, variable = 'PORT'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use (set ${variable})` : `cannot listen on ${host}:${port}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export { Logger };
