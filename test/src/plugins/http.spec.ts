import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractValidators } from '@blockyard/contracts';
import { ROOT } from '../support/paths.js';
import { runPluginBlock } from '../support/plugin-harness.js';
import { closedPort, startEchoApi, type EchoApiStandIn } from '../support/stand-ins/echo-api.js';

const PLUGIN = '@blockyard/plugin-http';

describe('plugin @blockyard/plugin-http, run by the real loader, engine and context.fetch', () => {
  let api: EchoApiStandIn;
  beforeEach(async () => (api = await startEchoApi()));
  afterEach(() => api.close());

  const request = (inputs: Record<string, unknown>, options: { allowLoopback?: boolean } = {}) => runPluginBlock({ plugin: PLUGIN, blockId: 'http.request', inputs, ...options });
  type Echo = { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string; json?: unknown };

  it('has a manifest valid against plugin-manifest.schema.json', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'plugins/http/blockyard.plugin.json'), 'utf8'));
    const result = new ContractValidators().validate('plugin-manifest.schema.json', manifest);
    expect(result.ok, JSON.stringify(!result.ok && result.issues)).to.equal(true);
  });

  it('GETs with the query and headers, and yields status, headers and the parsed JSON body', async () => {
    const outcome = await request({ url: `${api.url}/echo`, query: { page: 2, q: 'a b', all: true }, headers: { 'X-Trace': 'abc', accept: 'application/json' } });
    expect(outcome.status, outcome.error ?? '').to.equal('completed');
    expect(outcome.outputs.status).to.deep.equal([200]);
    expect(outcome.outputs.headers![0]).to.include({ 'content-type': 'application/json; charset=utf-8' });
    const echo = outcome.outputs.body![0] as Echo;
    expect(echo).to.deep.include({ method: 'GET', path: '/echo', query: { page: '2', q: 'a b', all: 'true' }, body: '' });
    expect(echo.headers).to.include({ 'x-trace': 'abc', accept: 'application/json' });
    expect(api.received).to.have.length(1);
  });

  it('POSTs body as JSON', async () => {
    const outcome = await request({ url: `${api.url}/echo`, method: 'POST', body: { name: 'widget', tags: ['a', 'b'], n: 1.5 } });
    const echo = outcome.outputs.body![0] as Echo;
    expect(echo.method).to.equal('POST');
    expect(echo.headers['content-type']).to.equal('application/json');
    expect(echo.json).to.deep.equal({ name: 'widget', tags: ['a', 'b'], n: 1.5 });
  });

  it('PUTs body_text as is, with the caller’s content-type', async () => {
    const outcome = await request({ url: `${api.url}/echo`, method: 'PUT', body_text: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const echo = outcome.outputs.body![0] as Echo;
    expect(echo).to.deep.include({ method: 'PUT', body: 'a=1&b=2' });
    expect(echo.headers['content-type']).to.equal('application/x-www-form-urlencoded');
  });

  it('sends PATCH and DELETE', async () => {
    const patch = await request({ url: `${api.url}/echo`, method: 'PATCH', body: [1, 2] });
    const del = await request({ url: `${api.url}/echo`, method: 'DELETE' });
    expect((patch.outputs.body![0] as Echo).json).to.deep.equal([1, 2]);
    expect((del.outputs.body![0] as Echo).method).to.equal('DELETE');
  });

  it('yields a text answer as text', async () => {
    const outcome = await request({ url: `${api.url}/text` });
    expect(outcome.outputs).to.deep.include({ status: [200], body: ['plain text answer'] });
  });

  it('yields the headers and an empty body for HEAD', async () => {
    const outcome = await request({ url: `${api.url}/text`, method: 'HEAD' });
    expect(outcome.status).to.equal('completed');
    expect(outcome.outputs.body).to.deep.equal(['']);
    expect(outcome.outputs.headers![0]).to.include({ 'content-type': 'text/plain; charset=utf-8' });
    expect(api.received[0]!.method).to.equal('HEAD');
  });

  it('completes with 4xx and 5xx answers: a status is a result, not a failure', async () => {
    const notFound = await request({ url: `${api.url}/status/404`, method: 'POST', body: {} });
    expect(notFound).to.deep.include({ status: 'completed', error: null });
    expect(notFound.outputs).to.deep.include({ status: [404], body: [{ status: 404 }] });
    expect(notFound.outputs.headers![0]).to.include({ 'x-status': '404' });
    const failing = await request({ url: `${api.url}/status/503`, method: 'POST', body: {} });
    expect(failing.outputs.status).to.deep.equal([503]);
  });

  it('refuses a request to 127.0.0.1 when the SSRF guard is closed, as in production', async () => {
    const outcome = await request({ url: `${api.url}/echo` }, { allowLoopback: false });
    expect(outcome.status).to.equal('failed');
    expect(outcome.error).to.match(/^request refused: blocked_address: /);
    expect(outcome.error).to.contain('127.0.0.1');
    expect(api.received).to.have.length(0);
  });

  it('refuses localhost and other internal addresses too when the guard is closed', async () => {
    for (const url of [`http://localhost:${new URL(api.url).port}/echo`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/']) {
      const outcome = await request({ url, timeout_ms: 2000 }, { allowLoopback: false });
      expect(outcome.error, url).to.match(/^request refused: blocked_address: /);
    }
    expect(api.received).to.have.length(0);
  });

  it('fails naming the timeout when no answer comes within timeout_ms', async () => {
    const t0 = Date.now();
    const outcome = await request({ url: `${api.url}/slow?ms=5000`, method: 'POST', body: {}, timeout_ms: 150 });
    expect(outcome.status).to.equal('failed');
    expect(outcome.error).to.match(/^request failed: timeout: /);
    expect(Date.now() - t0).to.be.below(3000);
  });

  it('fails naming the network error when nothing listens', async () => {
    const port = await closedPort();
    const outcome = await request({ url: `http://127.0.0.1:${port}/`, method: 'POST', body: {} });
    expect(outcome.status).to.equal('failed');
    expect(outcome.error).to.match(/^request failed: network: /);
  });

  it('refuses invalid inputs before any request: a relative URL, an unknown method, body and body_text', async () => {
    const relative = await request({ url: '/echo' });
    expect(relative.status).to.equal('failed');
    expect(relative.error).to.contain('invalid inputs for block http.request').and.to.contain('/url');
    const method = await request({ url: `${api.url}/echo`, method: 'TRACE' });
    expect(method.error).to.contain('/method');
    const both = await request({ url: `${api.url}/echo`, method: 'POST', body: {}, body_text: 'x' });
    expect(both.error).to.equal('give either body (sent as JSON) or body_text, not both');
    expect(api.received).to.have.length(0);
  });
});
