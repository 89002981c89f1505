import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBlockyardClient, type BlockyardCredentials } from './index.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server that records each request and answers what `answer` says. */
async function recordingServer(answer: (req: Received) => { status: number; body?: unknown }) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body };
      received.push(r);
      const { status, body: out } = answer(r);
      res.writeHead(status, out === undefined ? {} : { 'content-type': 'application/json' });
      res.end(out === undefined ? undefined : JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('createBlockyardClient', () => {
  const execution = { execution_id: 'e/1', status: 'queued' };
  let server: Awaited<ReturnType<typeof recordingServer>>;

  beforeEach(async () => {
    server = await recordingServer((req) => (req.url.startsWith('/api/v1/executions/missing') ? { status: 404, body: { detail: 'execution missing not found' } } : req.method === 'DELETE' ? { status: 204 } : { status: 202, body: execution }));
  });
  afterEach(() => server.close());

  it('sends an API key as X-API-Key, an access token as a bearer token, and nothing without either', async () => {
    const credentials: BlockyardCredentials[] = [{ apiKey: 'byk_key' }, { accessToken: 'at_token' }, {}];
    for (const c of credentials) await createBlockyardClient({ baseUrl: server.base, ...c }).GET('/api/v1/blocks');
    expect(server.received.map((r) => [r.headers['x-api-key'], r.headers.authorization])).to.deep.equal([
      ['byk_key', undefined],
      [undefined, 'Bearer at_token'],
      [undefined, undefined],
    ]);
  });

  it('refuses both an API key and an access token', () => {
    expect(() => createBlockyardClient({ baseUrl: server.base, apiKey: 'a', accessToken: 'b' } as never)).to.throw(TypeError, /not both/);
  });

  it('fills in path parameters (encoded), the query and a JSON body, and answers the 2xx body as data', async () => {
    const client = createBlockyardClient({ baseUrl: `${server.base}/`, apiKey: 'k', headers: { 'X-Request-Id': 'r1' } });
    const { data, error, response } = await client.POST('/api/v1/blocks/{id}/execute', {
      params: { path: { id: 'example.echo/x' }, query: { wait: 5 } },
      body: { inputs: { text: 'hi' } },
    });
    expect(response.status).to.equal(202);
    expect(error).to.equal(undefined);
    expect(data).to.deep.equal(execution);
    const [sent] = server.received;
    expect(sent).to.deep.include({ method: 'POST', url: '/api/v1/blocks/example.echo%2Fx/execute?wait=5', body: '{"inputs":{"text":"hi"}}' });
    expect(sent!.headers['content-type']).to.equal('application/json');
    expect(sent!.headers['x-request-id']).to.equal('r1');
  });

  it('answers an error status as error ({ detail }) and an empty 204 as no data, without throwing', async () => {
    const client = createBlockyardClient({ baseUrl: server.base, apiKey: 'k' });
    const missing = await client.GET('/api/v1/executions/{id}', { params: { path: { id: 'missing' } } });
    expect(missing.response.status).to.equal(404);
    expect(missing.data).to.equal(undefined);
    expect(missing.error).to.deep.equal({ detail: 'execution missing not found' });
    const revoked = await client.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: 'k1' } } });
    expect(revoked.response.status).to.equal(204);
    expect(revoked.error).to.equal(undefined);
  });
});
