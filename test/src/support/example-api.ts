import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExampleApiStandIn {
  url: string;
  received: Array<{ method: string; path: string; body: unknown }>;
  close(): Promise<void>;
}

/**
 * Plays the tutorial's Example API on 127.0.0.1: POST /v1/resources answers
 * { message: "created <name>" }, or the given failure status.
 */
export async function startExampleApi(failWith?: number): Promise<ExampleApiStandIn> {
  const received: ExampleApiStandIn['received'] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep raw */
      }
      received.push({ method: req.method!, path: req.url!, body });
      if (failWith) {
        res.writeHead(failWith, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/resources') {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `created ${(body as { name?: string }).name}` }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
