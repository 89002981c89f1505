/** For the specs: a real HTTP server on 127.0.0.1 that records what it received. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface LocalServerFixture {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The same server named `localhost`: another origin. */
  localhostUrl: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, received: ReceivedRequest) => void;

export async function localServerFixture(handler: Handler): Promise<LocalServerFixture> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      handler(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    localhostUrl: `http://localhost:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON with the request it received, so a spec can look at what was sent. */
export const echoHandler: Handler = (_req, res, received) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(received));
};
