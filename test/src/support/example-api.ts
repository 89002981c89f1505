import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExampleApiStandIn {
  url: string;
  received: Array<{ method: string; path: string; authorization: string | undefined; body: unknown }>;
  /** Answers every request with this status from now on (undefined: behave). */
  failWith: number | undefined;
  close(): Promise<void>;
}

/**
 * Plays the tutorial's Example API on 127.0.0.1: POST /v1/resources with
 * `Authorization: Bearer <apiKey>` answers { message: "created <name>" }; a wrong or missing key
 * is a 401.
 */
export async function startExampleApi(apiKey = 'example-e2e-key'): Promise<ExampleApiStandIn> {
  const standIn: ExampleApiStandIn = { url: '', received: [], failWith: undefined, close: async () => {} };
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
      standIn.received.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization, body });
      const json = (status: number, payload: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      if (standIn.failWith) return json(standIn.failWith, { error: 'unavailable' });
      if (req.headers.authorization !== `Bearer ${apiKey}`) return json(401, { error: 'invalid api key' });
      if (req.method === 'POST' && req.url === '/v1/resources') return json(201, { message: `created ${(body as { name?: string }).name}` });
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () => new Promise((resolve) => server.close(() => resolve()));
  return standIn;
}
