import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { OutboundRequestError, type ContextFetch, type OutboundFetchOptions } from '@blockyard/core';
import { echoHandler, localServerFixture, type Handler, type LocalServerFixture, type ReceivedRequest } from './local-server.fixture.js';
import { NodeOutboundHttp, type NodeOutboundHttpOptions } from './node-outbound-http.js';

const TOKEN = 'tok_3f9a1c_secret';

/** What context.fetch threw, checked to be an OutboundRequestError. */
async function rejection(promise: Promise<unknown>): Promise<OutboundRequestError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(OutboundRequestError);
    return err as OutboundRequestError;
  }
  throw new Error('expected the request to fail');
}

describe('NodeOutboundHttp', function () {
  const servers: LocalServerFixture[] = [];
  const clients: NodeOutboundHttp[] = [];

  async function server(handler: Handler = echoHandler): Promise<LocalServerFixture> {
    const s = await localServerFixture(handler);
    servers.push(s);
    return s;
  }

  /** A fetch with the guard opened for 127.0.0.1 and fast retries, unless options say otherwise. */
  function fetchWith(fetchOptions: OutboundFetchOptions = {}, options: NodeOutboundHttpOptions = {}): ContextFetch {
    const client = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'], retryBaseDelayMs: 1, ...options });
    clients.push(client);
    return client.createFetch(fetchOptions);
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('constructor', () => {
    it('refuses options that are not numbers of the right kind', () => {
      expect(() => new NodeOutboundHttp({ timeoutMs: 0 })).to.throw(TypeError, /timeoutMs/);
      expect(() => new NodeOutboundHttp({ timeoutMs: 2 ** 31 })).to.throw(TypeError, /timeoutMs/);
      expect(() => new NodeOutboundHttp({ maxRetries: 1.5 })).to.throw(TypeError, /maxRetries/);
      expect(() => new NodeOutboundHttp({ maxRedirects: -1 })).to.throw(TypeError, /maxRedirects/);
      expect(() => new NodeOutboundHttp({ maxRetryDelayMs: Infinity })).to.throw(TypeError, /maxRetryDelayMs/);
      expect(() => new NodeOutboundHttp({ allowHosts: ['10.0.0.0/33'] })).to.throw(TypeError, /CIDR/);
    });
  });

  describe('credential injection', () => {
    async function received(fetchOptions: OutboundFetchOptions, path = '/x', headers?: Record<string, string>): Promise<ReceivedRequest> {
      const s = await server();
      const res = await fetchWith(fetchOptions)<ReceivedRequest>(`${s.url}${path}`, headers ? { headers } : {});
      return res.data;
    }

    it('sends a bearer token as Authorization: Bearer', async () => {
      const req = await received({ credential: { type: 'bearer', token: TOKEN } });
      expect(req.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    });

    it('sends a header credential in its header', async () => {
      const req = await received({ credential: { type: 'header', name: 'X-Api-Key', value: TOKEN } });
      expect(req.headers['x-api-key']).to.equal(TOKEN);
    });

    it('sends a query credential as its query parameter, and leaves it out of the response URL', async () => {
      const s = await server();
      const res = await fetchWith({ credential: { type: 'query', name: 'api_key', value: TOKEN } })<ReceivedRequest>(`${s.url}/x?page=2`);
      expect(res.data.url).to.equal(`/x?page=2&api_key=${TOKEN}`);
      expect(res.url).to.equal(`${s.url}/x?page=2`);
    });

    it('sends basic credentials as Authorization: Basic base64(user:pass)', async () => {
      const req = await received({ credential: { type: 'basic', username: 'ada', password: 'pä:ss' } });
      expect(req.headers.authorization).to.equal(`Basic ${Buffer.from('ada:pä:ss').toString('base64')}`);
    });

    it('sends host-scoped headers to their host (any port)', async () => {
      const req = await received({ credential: { type: 'host_scoped', host: '127.0.0.1', headers: { 'X-Token': TOKEN, 'X-Team': 't1' } } });
      expect(req.headers['x-token']).to.equal(TOKEN);
      expect(req.headers['x-team']).to.equal('t1');
    });

    it('sends host-scoped headers to no other host', async () => {
      const req = await received({ credential: { type: 'host_scoped', host: 'api.example.com', headers: { 'X-Token': TOKEN } } });
      expect(req.headers).not.to.have.property('x-token');
    });

    it('keeps the credential when the caller sends a header of the same name', async () => {
      const bearer = await received({ credential: { type: 'bearer', token: TOKEN } }, '/x', { Authorization: 'Bearer forged' });
      expect(bearer.headers.authorization).to.equal(`Bearer ${TOKEN}`);
      const header = await received({ credential: { type: 'header', name: 'X-Api-Key', value: TOKEN } }, '/x', { 'x-api-key': 'forged' });
      expect(header.headers['x-api-key']).to.equal(TOKEN);
    });

    it('keeps the query credential when the URL or the query option has a parameter of the same name', async () => {
      const s = await server();
      const res = await fetchWith({ credential: { type: 'query', name: 'key', value: TOKEN } })<ReceivedRequest>(`${s.url}/x?key=forged`, { query: { key: 'forged2' } });
      expect(new URL(res.data.url, s.url).searchParams.getAll('key')).to.deep.equal([TOKEN]);
    });

    it('puts no secret in the errors of a failing request', async () => {
      const s = await server((req) => req.socket.destroy());
      const credentials: OutboundFetchOptions['credential'][] = [
        { type: 'bearer', token: TOKEN },
        { type: 'query', name: 'key', value: TOKEN },
        { type: 'basic', username: 'ada', password: TOKEN },
      ];
      for (const credential of credentials) {
        const err = await rejection(fetchWith({ credential }, { maxRetries: 0 })(`${s.url}/x`));
        expect(err.code).to.equal('network');
        const everything = `${err.message} ${err.stack} ${inspect(err, { depth: 10, showHidden: true })}`;
        expect(everything).not.to.contain(TOKEN);
        expect(everything).not.to.contain(Buffer.from(`ada:${TOKEN}`).toString('base64'));
      }
    });

    it('puts no secret in a timeout error', async () => {
      const s = await server(() => {});
      const err = await rejection(fetchWith({ credential: { type: 'query', name: 'key', value: TOKEN } }, { maxRetries: 0 })(`${s.url}/x`, { timeoutMs: 50 }));
      expect(err.code).to.equal('timeout');
      expect(`${err.message} ${inspect(err, { depth: 10 })}`).not.to.contain(TOKEN);
    });
  });

  describe('URLs', () => {
    it('appends a relative URL to the base URL', async () => {
      const s = await server();
      const fetch = fetchWith({ baseUrl: `${s.url}/v1/` });
      expect((await fetch<ReceivedRequest>('/items')).data.url).to.equal('/v1/items');
      expect((await fetch<ReceivedRequest>('items/3?x=1')).data.url).to.equal('/v1/items/3?x=1');
      const res = await fetchWith({ baseUrl: `${s.url}/v1` })<ReceivedRequest>('users');
      expect(res.data.url).to.equal('/v1/users');
      expect(res.url).to.equal(`${s.url}/v1/users`);
    });

    it('uses an absolute URL as it is', async () => {
      const s = await server();
      const res = await fetchWith({ baseUrl: 'https://api.example.com/v1' })<ReceivedRequest>(`${s.url}/other`);
      expect(res.data.url).to.equal('/other');
    });

    it('refuses unparsable URLs, relative ones without a base, and protocols other than http and https', async () => {
      for (const url of ['http://', 'http://exa mple.com/', '/relative', 'ftp://example.com/file', 'file:///etc/passwd', 'javascript:alert(1)']) {
        const err = await rejection(fetchWith()(url));
        expect(err.code, url).to.equal('invalid_url');
      }
      const err = await rejection(fetchWith({ baseUrl: 'not a url' })('/items'));
      expect(err.code).to.equal('invalid_url');
    });
  });

  describe('requests', () => {
    it('sends GET by default', async () => {
      const s = await server();
      expect((await fetchWith()<ReceivedRequest>(s.url)).data.method).to.equal('GET');
    });

    it('sends json as a JSON body with its content type', async () => {
      const s = await server();
      const res = await fetchWith()<ReceivedRequest>(s.url, { method: 'post', json: { a: [1, 'b'] } });
      expect(res.data.method).to.equal('POST');
      expect(res.data.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(res.data.body)).to.deep.equal({ a: [1, 'b'] });
    });

    it('keeps the content type the caller gave a json body', async () => {
      const s = await server();
      const res = await fetchWith()<ReceivedRequest>(s.url, { method: 'POST', json: {}, headers: { 'Content-Type': 'application/vnd.api+json' } });
      expect(res.data.headers['content-type']).to.equal('application/vnd.api+json');
    });

    it('sends a body as it is', async () => {
      const s = await server();
      const res = await fetchWith()<ReceivedRequest>(s.url, { method: 'PUT', body: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.data.body).to.equal('a=1&b=2');
      const bytes = await fetchWith()<ReceivedRequest>(s.url, { method: 'PUT', body: new TextEncoder().encode('bytes') });
      expect(bytes.data.body).to.equal('bytes');
    });

    it('refuses json and body together', async () => {
      const s = await server();
      let thrown: unknown;
      await fetchWith()(s.url, { method: 'POST', json: {}, body: 'x' }).catch((err: unknown) => (thrown = err));
      expect(thrown).to.be.instanceOf(TypeError);
      expect(s.received).to.have.length(0);
    });

    it('sends a User-Agent unless the caller sets one', async () => {
      const s = await server();
      expect((await fetchWith()<ReceivedRequest>(s.url)).data.headers['user-agent']).to.equal('blockyard');
      expect((await fetchWith()<ReceivedRequest>(s.url, { headers: { 'User-Agent': 'mine/1.0' } })).data.headers['user-agent']).to.equal('mine/1.0');
    });

    it('merges query into the URL, skipping undefined values', async () => {
      const s = await server();
      const res = await fetchWith()<ReceivedRequest>(`${s.url}/search?q=old&keep=1`, { query: { q: 'new words', n: 5, draft: false, skipped: undefined } });
      const params = new URL(res.data.url, s.url).searchParams;
      expect([...params]).to.deep.equal([['q', 'new words'], ['keep', '1'], ['n', '5'], ['draft', 'false']]);
    });
  });

  describe('responses', () => {
    function answering(status: number, headers: Record<string, string | string[]>, body: string | Buffer): Handler {
      return (_req, res) => {
        res.writeHead(status, headers);
        res.end(body);
      };
    }

    it('parses JSON, and gives status, ok, lower-cased headers and the URL', async () => {
      const s = await server(answering(201, { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': 'r1', 'Set-Cookie': ['a=1', 'b=2'] }, '{"id":7}'));
      const res = await fetchWith()(`${s.url}/things`);
      expect(res).to.deep.include({ status: 201, ok: true, data: { id: 7 }, url: `${s.url}/things` });
      expect(res.headers).to.include({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1', 'set-cookie': 'a=1, b=2' });
    });

    it('parses +json media types', async () => {
      const s = await server(answering(200, { 'content-type': 'application/problem+json' }, '{"title":"x"}'));
      expect((await fetchWith()(s.url)).data).to.deep.equal({ title: 'x' });
    });

    it('gives the text of JSON that does not parse', async () => {
      const s = await server(answering(200, { 'content-type': 'application/json' }, '{not json'));
      expect((await fetchWith()(s.url)).data).to.equal('{not json');
    });

    it('gives text for other content types, in their charset', async () => {
      const s = await server(answering(200, { 'content-type': 'text/plain' }, '{"a":1}'));
      expect((await fetchWith()(s.url)).data).to.equal('{"a":1}');
      const latin1 = await server(answering(200, { 'content-type': 'text/plain; charset=iso-8859-1' }, Buffer.from([0x63, 0x61, 0x66, 0xe9])));
      expect((await fetchWith()(latin1.url)).data).to.equal('café');
    });

    it("gives '' for an empty body and null for an empty JSON one (204)", async () => {
      const empty = await server(answering(200, {}, ''));
      expect((await fetchWith()(empty.url)).data).to.equal('');
      const noContent = await server(answering(204, { 'content-type': 'application/json' }, ''));
      const res = await fetchWith()(noContent.url);
      expect(res.status).to.equal(204);
      expect(res.data).to.equal(null);
    });

    it('returns error statuses as responses, not ok', async () => {
      const s = await server(answering(404, { 'content-type': 'application/json' }, '{"detail":"no"}'));
      const res = await fetchWith()(s.url);
      expect(res).to.deep.include({ status: 404, ok: false, data: { detail: 'no' } });
    });

    it('decodes a gzip body', async () => {
      const s = await server(answering(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync('{"zipped":true}')));
      expect((await fetchWith()(s.url, { headers: { 'accept-encoding': 'gzip' } })).data).to.deep.equal({ zipped: true });
    });

    it('refuses a body declared larger than maxResponseBytes', async () => {
      const s = await server(answering(200, { 'content-type': 'text/plain' }, 'x'.repeat(2000)));
      const err = await rejection(fetchWith({}, { maxResponseBytes: 1000 })(s.url));
      expect(err.code).to.equal('response_too_large');
    });

    it('stops reading an endless body once it passes maxResponseBytes', async () => {
      let written = 0;
      let closed: Promise<unknown> = Promise.resolve();
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
        closed = once(res, 'close');
        const chunk = Buffer.alloc(16 * 1024, 1);
        const pump = (): void => {
          while (!res.destroyed && written < 64 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
        };
        pump();
      });
      const err = await rejection(fetchWith({}, { maxResponseBytes: 100_000 })(s.url));
      expect(err.code).to.equal('response_too_large');
      await closed; // the client hung up
      expect(written).to.be.below(16 * 1024 * 1024);
    });

    it('refuses a gzip body whose decoded size passes maxResponseBytes', async () => {
      const s = await server(answering(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(5_000_000))));
      const err = await rejection(fetchWith({}, { maxResponseBytes: 100_000 })(s.url));
      expect(err.code).to.equal('response_too_large');
    });

    describe('discardBody', () => {
      it("reads the body but keeps none of it: data is '', status and headers as usual", async () => {
        const ports: number[] = [];
        const busy = answering(503, { 'content-type': 'application/json', 'retry-after': '7' }, '{"busy":true}');
        const s = await server((req, res, received) => (ports.push(req.socket.remotePort!), busy(req, res, received)));
        const fetch = fetchWith({}, { maxRetries: 0 });
        const res = await fetch(s.url, { method: 'POST', body: '{}', discardBody: true });
        expect(res).to.deep.include({ status: 503, ok: false, data: '', url: `${s.url}/` });
        expect(res.headers).to.include({ 'content-type': 'application/json', 'retry-after': '7' });
        for (let i = 0; i < 3; i++) expect((await fetch(s.url, { method: 'POST', body: '{}', discardBody: true })).status).to.equal(503);
        // each body was read to its end, so its keep-alive connection served a later request
        expect(new Set(ports).size).to.be.below(ports.length);
        expect((await fetch(s.url)).data).to.deep.equal({ busy: true });
      });

      it('still refuses a body past maxResponseBytes, declared, endless or once decoded', async () => {
        const declared = await server(answering(200, { 'content-type': 'text/plain' }, 'x'.repeat(2000)));
        expect((await rejection(fetchWith({}, { maxResponseBytes: 1000 })(declared.url, { discardBody: true }))).code).to.equal('response_too_large');
        const endless = await server((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(16 * 1024, 1);
          const pump = (): void => {
            while (!res.destroyed) if (!res.write(chunk)) return void res.once('drain', pump);
          };
          pump();
        });
        expect((await rejection(fetchWith({}, { maxResponseBytes: 100_000 })(endless.url, { discardBody: true }))).code).to.equal('response_too_large');
        const zipped = await server(answering(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(5_000_000))));
        expect((await rejection(fetchWith({}, { maxResponseBytes: 100_000 })(zipped.url, { discardBody: true }))).code).to.equal('response_too_large');
      });

      it('still times out a body that stops coming', async () => {
        const s = await server((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial');
        });
        const err = await rejection(fetchWith({}, { maxRetries: 0 })(s.url, { timeoutMs: 100, discardBody: true }));
        expect(err.code).to.equal('timeout');
      });
    });
  });

  describe('timeouts and abort', () => {
    it('fails an attempt that gets no response in time with timeout', async () => {
      const s = await server(() => {});
      const started = Date.now();
      const err = await rejection(fetchWith({}, { timeoutMs: 100, maxRetries: 0 })(s.url));
      expect(err.code).to.equal('timeout');
      expect(Date.now() - started).to.be.within(90, 2000);
    });

    it("uses the request's timeoutMs over the default", async () => {
      const s = await server(() => {});
      const started = Date.now();
      const err = await rejection(fetchWith({}, { maxRetries: 0 })(s.url, { timeoutMs: 80 }));
      expect(err.code).to.equal('timeout');
      expect(Date.now() - started).to.be.below(2000);
    });

    it('times out a body that stops coming', async () => {
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      });
      const err = await rejection(fetchWith({}, { maxRetries: 0 })(s.url, { timeoutMs: 100 }));
      expect(err.code).to.equal('timeout');
    });

    it('retries an idempotent request that timed out, each attempt with its own limit', async () => {
      const s = await server((_req, res, received) => {
        if (s.received.length === 1) return; // the first attempt hangs
        res.end(received.url);
      });
      const res = await fetchWith({}, { maxRetries: 1 })(s.url, { timeoutMs: 150 });
      expect(res.data).to.equal('/');
      expect(s.received).to.have.length(2);
    });

    it("fails with aborted at once when the run's signal aborts, and tries no more", async () => {
      const s = await server(() => {});
      const controller = new AbortController();
      const fetch = fetchWith({ signal: controller.signal }, { maxRetries: 3 });
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      const err = await rejection(fetch(s.url));
      expect(err.code).to.equal('aborted');
      expect(Date.now() - started).to.be.below(1000);
      await new Promise((r) => setTimeout(r, 100));
      expect(s.received).to.have.length(1);
    });

    it('ends the wait between retries when the signal aborts', async () => {
      const s = await server((_req, res) => {
        res.statusCode = 503;
        res.end();
      });
      const controller = new AbortController();
      const fetch = fetchWith({ signal: controller.signal }, { maxRetries: 3, retryBaseDelayMs: 5000 });
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      const err = await rejection(fetch(s.url));
      expect(err.code).to.equal('aborted');
      expect(Date.now() - started).to.be.below(1000);
      expect(s.received).to.have.length(1);
    });

    it('aborts every request in flight on the signal, with one listener on it however many there are', async () => {
      const s = await server(() => {});
      const controller = new AbortController();
      const warnings: Error[] = [];
      const onWarning = (warning: Error): void => void warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const fetch = fetchWith({ signal: controller.signal });
        const requests = Array.from({ length: 16 }, (_, i) => rejection(fetch(`${s.url}/${i}`)));
        while (s.received.length < 16) await new Promise((r) => setTimeout(r, 5));
        controller.abort();
        const errors = await Promise.all(requests);
        expect(errors.map((e) => e.code)).to.deep.equal(new Array(16).fill('aborted'));
        await new Promise((r) => setImmediate(r));
        expect(warnings.map((w) => w.name)).not.to.contain('MaxListenersExceededWarning');
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('sends nothing when the signal has already aborted', async () => {
      const s = await server();
      const err = await rejection(fetchWith({ signal: AbortSignal.abort() })(s.url));
      expect(err.code).to.equal('aborted');
      expect(s.received).to.have.length(0);
    });
  });

  describe('retries', () => {
    /** Answers `statuses` in turn (then 200 'done'), counting attempts. */
    function statusesThenOk(...statuses: Array<number | [number, Record<string, string>]>): Handler {
      let i = 0;
      return (_req, res) => {
        const next = statuses[i++];
        if (next === undefined) return void res.end('done');
        const [status, headers] = Array.isArray(next) ? next : [next, {}];
        res.writeHead(status, headers);
        res.end(`attempt ${i}`);
      };
    }

    it('retries 5xx and 429 for GET, then returns the success', async () => {
      const s = await server(statusesThenOk(503, 429, 500));
      const res = await fetchWith()(s.url);
      expect(res).to.deep.include({ status: 200, data: 'done' });
      expect(s.received).to.have.length(4);
    });

    it('returns the last response after maxRetries, without throwing', async () => {
      const s = await server(statusesThenOk(503, 503, 503, 503, 503));
      const res = await fetchWith({}, { maxRetries: 2 })(s.url);
      expect(res).to.deep.include({ status: 503, ok: false, data: 'attempt 3' });
      expect(s.received).to.have.length(3);
    });

    it('does not retry 4xx other than 429', async () => {
      const s = await server(statusesThenOk(404));
      expect((await fetchWith()(s.url)).status).to.equal(404);
      expect(s.received).to.have.length(1);
    });

    it('retries PUT, DELETE, HEAD and OPTIONS', async () => {
      for (const method of ['PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
        const s = await server(statusesThenOk(502));
        expect((await fetchWith()(s.url, { method })).status, method).to.equal(200);
        expect(s.received, method).to.have.length(2);
      }
    });

    it('does not retry POST or PATCH by default', async () => {
      for (const method of ['POST', 'PATCH']) {
        const s = await server(statusesThenOk(503));
        expect((await fetchWith()(s.url, { method, json: {} })).status, method).to.equal(503);
        expect(s.received, method).to.have.length(1);
      }
    });

    it('retries POST with retry: true, sending the body each time', async () => {
      const s = await server(statusesThenOk(503, 503));
      const res = await fetchWith()(s.url, { method: 'POST', json: { n: 1 }, retry: true });
      expect(res.status).to.equal(200);
      expect(s.received.map((r) => r.body)).to.deep.equal(['{"n":1}', '{"n":1}', '{"n":1}']);
    });

    it('does not retry GET with retry: false', async () => {
      const s = await server(statusesThenOk(503));
      expect((await fetchWith()(s.url, { retry: false })).status).to.equal(503);
      expect(s.received).to.have.length(1);
    });

    it('retries network errors, then throws network', async () => {
      const s = await server((req) => req.socket.destroy());
      const err = await rejection(fetchWith({}, { maxRetries: 2 })(s.url));
      expect(err.code).to.equal('network');
      expect(s.received).to.have.length(3);
    });

    it('does not retry a POST that failed on the network', async () => {
      const s = await server((req) => req.socket.destroy());
      const err = await rejection(fetchWith()(s.url, { method: 'POST', body: 'x' }));
      expect(err.code).to.equal('network');
      expect(s.received).to.have.length(1);
    });

    it('waits as long as Retry-After asks (seconds)', async () => {
      const s = await server(statusesThenOk([429, { 'retry-after': '1' }]));
      const started = Date.now();
      expect((await fetchWith()(s.url)).status).to.equal(200);
      expect(Date.now() - started).to.be.within(950, 3000);
    });

    it('caps Retry-After (seconds or a date) at maxRetryDelayMs', async () => {
      const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
      const s = await server(statusesThenOk([503, { 'retry-after': '3600' }], [503, { 'retry-after': inAnHour }]));
      const started = Date.now();
      expect((await fetchWith({}, { maxRetryDelayMs: 100 })(s.url)).status).to.equal(200);
      expect(Date.now() - started).to.be.within(190, 2000);
    });

    it('backs off exponentially between attempts', async () => {
      const times: number[] = [];
      const s = await server((_req, res) => {
        times.push(Date.now());
        res.statusCode = 500;
        res.end();
      });
      await fetchWith({}, { maxRetries: 3, retryBaseDelayMs: 80 })(s.url);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      // equal jitter: the n-th wait is between half and all of 80 × 2^(n-1)
      expect(gaps[0]).to.be.within(35, 200);
      expect(gaps[1]).to.be.within(75, 300);
      expect(gaps[2]).to.be.within(155, 500);
    });
  });

  describe('SSRF guard', () => {
    function guarded(options: NodeOutboundHttpOptions = {}, fetchOptions: OutboundFetchOptions = {}): ContextFetch {
      const client = new NodeOutboundHttp({ maxRetries: 0, ...options });
      clients.push(client);
      return client.createFetch(fetchOptions);
    }

    it('refuses loopback addresses in every form, and names the host but no secret', async () => {
      const s = await server();
      const fetch = guarded({}, { credential: { type: 'bearer', token: TOKEN } });
      for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '0.0.0.0', '[::]', '2130706433', '0x7f.1']) {
        const err = await rejection(fetch(`http://${host}:${s.port}/`));
        expect(err.code, host).to.equal('blocked_address');
        expect(err.message).to.match(/^request to \S+ blocked/);
        expect(err.message).not.to.contain(TOKEN);
      }
      expect(s.received).to.have.length(0);
    });

    it('refuses a name that resolves to loopback (localhost)', async () => {
      const s = await server();
      const err = await rejection(guarded()(`${s.localhostUrl}/`));
      expect(err.code).to.equal('blocked_address');
      expect(err.message).to.contain('localhost').and.to.contain('loopback');
      expect(s.received).to.have.length(0);
    });

    it('refuses a name when any of its addresses is internal', async () => {
      const s = await server();
      const resolveHost = async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ];
      const err = await rejection(guarded({ allowHosts: ['127.0.0.1'], resolveHost })(`http://api.test:${s.port}/`));
      expect(err.code).to.equal('blocked_address');
      expect(err.message).to.contain('api.test').and.to.contain('127.0.0.2');
      expect(s.received).to.have.length(0);
    });

    it('connects to the address it checked: a second, different DNS answer is never used', async () => {
      const s = await server();
      const answers = ['127.0.0.1', '127.0.0.2']; // the second would be refused, and nothing listens there
      let lookups = 0;
      const resolveHost = async () => [{ address: answers[Math.min(lookups++, 1)]!, family: 4 }];
      const res = await guarded({ allowHosts: ['127.0.0.1'], resolveHost })<ReceivedRequest>(`http://api.test:${s.port}/x`);
      expect(res.status).to.equal(200);
      expect(lookups).to.equal(1);
      expect(res.data.headers.host).to.equal(`api.test:${s.port}`);
    });

    it('keeps the original hostname for TLS SNI', async () => {
      let servername: string | undefined;
      const tlsServer = tls.createServer({
        SNICallback: (name, callback) => {
          servername = name;
          callback(new Error('this spec needs no certificate'), undefined);
        },
      });
      tlsServer.on('tlsClientError', () => {});
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = tlsServer.address() as AddressInfo;
        const resolveHost = async () => [{ address: '127.0.0.1', family: 4 }];
        const err = await rejection(guarded({ allowHosts: ['127.0.0.1'], resolveHost })(`https://secure.test:${port}/`));
        expect(err.code).to.equal('network'); // no certificate, but the hello reached the server
        expect(servername).to.equal('secure.test');
      } finally {
        tlsServer.close();
      }
    });

    it('lets allowHosts open an IP, a hostname or a CIDR range', async () => {
      const s = await server();
      expect((await guarded({ allowHosts: ['127.0.0.1'] })(`${s.url}/`)).status).to.equal(200);
      expect((await guarded({ allowHosts: ['localhost'] })(`${s.localhostUrl}/`)).status).to.equal(200);
      expect((await guarded({ allowHosts: ['127.0.0.0/8'] })(`http://[::ffff:127.0.0.1]:${s.port}/`)).status).to.equal(200);
      expect((await guarded({ allowHosts: ['127.0.0.0/8'] })(`${s.localhostUrl}/`)).status).to.equal(200);
    });

    it('opens only what allowHosts names', async () => {
      const s = await server();
      expect((await rejection(guarded({ allowHosts: ['localhost'] })(`${s.url}/`))).code).to.equal('blocked_address');
      expect((await rejection(guarded({ allowHosts: ['10.0.0.0/8'] })(`${s.url}/`))).code).to.equal('blocked_address');
      expect((await rejection(guarded({ allowHosts: ['127.0.0.2'] })(`${s.localhostUrl}/`))).code).to.equal('blocked_address');
      expect(s.received).to.have.length(0);
    });
  });

  describe('redirects', () => {
    function redirecting(status: number, location: (received: ReceivedRequest) => string | null): Handler {
      return (req, res, received) => {
        const to = location(received);
        if (to === null) return echoHandler(req, res, received);
        res.writeHead(status, { location: to });
        res.end();
      };
    }

    it('follows redirects and gives the final URL', async () => {
      const s = await server(redirecting(302, (r) => (r.url === '/a' ? '/b' : r.url === '/b' ? `${s.url}/c?d=1` : null)));
      const res = await fetchWith()<ReceivedRequest>(`${s.url}/a`);
      expect(res.status).to.equal(200);
      expect(res.url).to.equal(`${s.url}/c?d=1`);
      expect(s.received.map((r) => r.url)).to.deep.equal(['/a', '/b', '/c?d=1']);
    });

    it('keeps the credential on a same-origin redirect', async () => {
      const s = await server(redirecting(301, (r) => (r.url === '/a' ? '/b' : null)));
      const res = await fetchWith({ credential: { type: 'bearer', token: TOKEN } })<ReceivedRequest>(`${s.url}/a`);
      expect(res.data.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    });

    it("answers a 3xx as it is with redirect: 'manual', following nothing", async () => {
      for (const status of [301, 302, 303, 307, 308]) {
        const s = await server(redirecting(status, (r) => (r.url === '/a' ? '/b' : null)));
        const res = await fetchWith()(`${s.url}/a`, { method: 'POST', body: '{}', redirect: 'manual' });
        expect(res.status, String(status)).to.equal(status);
        expect(res.ok).to.equal(false);
        expect(res.headers.location).to.equal('/b');
        expect(s.received.map((r) => r.url)).to.deep.equal(['/a']);
      }
    });

    it('fails with too_many_redirects after maxRedirects', async () => {
      const s = await server(redirecting(302, (r) => `/n${Number(r.url.slice(2) || 0) + 1}`));
      const err = await rejection(fetchWith({}, { maxRedirects: 2 })(`${s.url}/n0`));
      expect(err.code).to.equal('too_many_redirects');
      expect(s.received).to.have.length(3);
    });

    it('checks every hop with the SSRF guard', async () => {
      const b = await server();
      const a = await server(redirecting(302, () => `${b.url}/`));
      const err = await rejection(fetchWith({}, { allowHosts: ['localhost'] })(`${a.localhostUrl}/`));
      expect(err.code).to.equal('blocked_address');
      expect(err.message).to.contain('127.0.0.1');
      expect(a.received).to.have.length(1);
      expect(b.received).to.have.length(0);
    });

    it('refuses a redirect to another protocol', async () => {
      const s = await server(redirecting(302, () => 'file:///etc/passwd'));
      expect((await rejection(fetchWith()(s.url))).code).to.equal('invalid_url');
    });

    it('sends no credential, Authorization or Cookie to another origin', async () => {
      const credentials: OutboundFetchOptions['credential'][] = [
        { type: 'bearer', token: TOKEN },
        { type: 'header', name: 'X-Api-Key', value: TOKEN },
        { type: 'query', name: 'key', value: TOKEN },
        { type: 'basic', username: 'ada', password: TOKEN },
        { type: 'host_scoped', host: '127.0.0.1', headers: { 'X-Token': TOKEN } },
      ];
      const b = await server();
      const a = await server(redirecting(307, () => `${b.localhostUrl}/landing`));
      for (const credential of credentials) {
        const fetch = fetchWith({ credential }, { allowHosts: ['127.0.0.1', 'localhost'] });
        const res = await fetch<ReceivedRequest>(`${a.url}/start`, { headers: { Cookie: 'session=1' } });
        expect(res.url).to.equal(`${b.localhostUrl}/landing`);
        const landed = res.data;
        expect(JSON.stringify(landed), credential!.type).not.to.contain(TOKEN);
        expect(landed.headers, credential!.type).not.to.have.any.keys('authorization', 'cookie', 'x-api-key', 'x-token');
      }
      // A got each credential (basic's only base64-encoded) and the cookie.
      expect(a.received.every((r) => r.headers.cookie === 'session=1' && (JSON.stringify(r).includes(TOKEN) || r.headers.authorization?.startsWith('Basic ')))).to.equal(true);
      expect(b.received).to.have.length(credentials.length);
    });

    it('turns POST into GET without a body on 303, 301 and 302', async () => {
      for (const status of [303, 301, 302]) {
        const s = await server(redirecting(status, (r) => (r.url === '/form' ? '/result' : null)));
        const res = await fetchWith()<ReceivedRequest>(`${s.url}/form`, { method: 'POST', json: { a: 1 } });
        expect(res.data.method, String(status)).to.equal('GET');
        expect(res.data.body).to.equal('');
        expect(res.data.headers).not.to.have.any.keys('content-type', 'content-length');
      }
    });

    it('keeps the method and body on 307 and 308', async () => {
      for (const status of [307, 308]) {
        const s = await server(redirecting(status, (r) => (r.url === '/form' ? '/result' : null)));
        const res = await fetchWith()<ReceivedRequest>(`${s.url}/form`, { method: 'POST', json: { a: 1 } });
        expect(res.data.method, String(status)).to.equal('POST');
        expect(res.data.body).to.equal('{"a":1}');
      }
    });

    it('turns PUT into GET on 303 only', async () => {
      const s = await server(redirecting(303, (r) => (r.url === '/a' ? '/b' : null)));
      expect((await fetchWith()<ReceivedRequest>(`${s.url}/a`, { method: 'PUT', body: 'x' })).data.method).to.equal('GET');
      const t = await server(redirecting(302, (r) => (r.url === '/a' ? '/b' : null)));
      expect((await fetchWith()<ReceivedRequest>(`${t.url}/a`, { method: 'PUT', body: 'x' })).data.method).to.equal('PUT');
    });
  });
});
