import { Worker } from 'node:worker_threads';

/**
 * A keep-alive node:http server on 127.0.0.1 in a worker thread, so that it does not share the
 * measuring thread. `respond` is the body of `(req, workerData) => Buffer`: the JSON answered
 * to every request.
 */
export async function startWorkerHttpServer(respond: string, workerData: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const source = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const respond = (req, workerData) => { ${respond} };
const server = http.createServer((req, res) => {
  req.resume();
  const body = respond(req, workerData);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => { server.closeAllConnections(); server.close(() => parentPort.close()); });
`;
  const worker = new Worker(source, { eval: true, workerData });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}
