import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the echo server received. */
export interface EchoRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
}

export interface EchoApiStandIn {
  url: string;
  received: EchoRequest[];
  close(): Promise<void>;
}

/**
 * A generic HTTP server on 127.0.0.1 for the http plugin:
 * - `/echo` (any method): 200 JSON `{ method, path, query, headers, body, json }` of the request
 *   (`json` is the parsed body when it was JSON);
 * - `/text`: 200 `text/plain` "plain text answer";
 * - `/status/:code`: that status with JSON `{ status }` and an `x-status` header;
 * - `/slow?ms=N`: answers after N ms;
 * - anything else: 404 JSON.
 * HEAD gets the headers only, as HTTP says.
 */
export async function startEchoApi(): Promise<EchoApiStandIn> {
  const received: EchoRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const url = new URL(req.url!, 'http://stand-in');
      const send = (status: number, type: string, text: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
        res.end(req.method === 'HEAD' ? undefined : text);
      };
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => send(status, 'application/json; charset=utf-8', JSON.stringify(value), headers);

      if (url.pathname === '/echo') {
        let parsed: unknown;
        try {
          parsed = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(body) : undefined;
        } catch {
          parsed = undefined;
        }
        return json(200, { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, json: parsed });
      }
      if (url.pathname === '/text') return send(200, 'text/plain; charset=utf-8', 'plain text answer');
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (status) return json(Number(status[1]), { status: Number(status[1]) }, { 'x-status': status[1]! });
      if (url.pathname === '/slow') {
        const timer = setTimeout(() => json(200, { slow: true }), Number(url.searchParams.get('ms') ?? 1000));
        res.on('close', () => clearTimeout(timer));
        return;
      }
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 127.0.0.1 port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
