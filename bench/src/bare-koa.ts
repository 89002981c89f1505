/**
 * P2's baseline server: a bare Koa 3 app that answers every request with `{"ok":true}`.
 * It parses nothing (the request body is left for Node to discard), has no middleware, no
 * auth, no storage: the cost of Node's HTTP server plus Koa itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface BareKoaServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startBareKoa(): Promise<BareKoaServer> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000; // as the Blockyard server sets it
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
