import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { PluginFolderError } from './plugin-folder.js';
import { formatSelfTestResult, runSelfTests, toResolvedCredential, type SelfTestReport, type SelfTestResult } from './self-test.js';
import { blockFixture, manifestFixture, pluginFixture, removeFixtures } from './tooling.fixtures.js';

const BASE = 'https://api.acme.test/v1';
const EXAMPLE_PLUGIN = fileURLToPath(new URL('../../../../plugins/example', import.meta.url));

const entryFixture = `
export const handlers = {
  'acme.create_contact': async ({ name }, context) => {
    const res = await context.fetch('/contacts', { method: 'POST', json: { name } });
    if (!res.ok) return { error: 'Acme answered ' + res.status };
    return { data: { contact: res.data } };
  },
  'acme.whoami': async function* (_inputs, context) {
    yield ['credential', context.credentials];
  },
  'acme.slow': (_inputs, context) => new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason))),
  'acme.broken_schema': async () => ({}),
};
`;

const contact = { id: 'c1', name: 'Ada' };
const post = (over: Record<string, unknown> = {}) => ({ method: 'POST', url: '/contacts', request_body: { name: 'Ada' }, status: 201, body: contact, ...over });

function selfTestPluginFixture(): string {
  const createContact = blockFixture('acme.create_contact', {
    input_schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    output_schema: { type: 'object', properties: { contact: { type: 'object' }, other: { type: 'string' } } },
    credentials: { provider: 'acme', kinds: ['api_key'] },
    tests: [
      { name: 'creates a contact', inputs: { name: 'Ada' }, credential: { api_key: 'k' }, http: [post()], outputs: { contact: [contact] } },
      { name: 'wrong value', inputs: { name: 'Ada' }, http: [post()], outputs: { contact: [{ id: 'c2' }] } },
      { name: 'missing and extra outputs', inputs: { name: 'Ada' }, http: [post()], outputs: { other: ['x'] } },
      { name: 'expected error', inputs: { name: 'Ada' }, http: [post({ status: 409, body: '' })], error: 'answered 409' },
      { name: 'error expected, none came', inputs: { name: 'Ada' }, http: [post()], error: 'answered 409' },
      { name: 'another error', inputs: { name: 'Ada' }, http: [post({ status: 500 })], error: 'answered 409' },
      { name: 'unexpected request', inputs: { name: 'Ada' } },
      { name: 'request not matching', inputs: { name: 'Ada' }, http: [post({ request_body: { name: 'Bob' } })] },
      { name: 'exchange never requested', inputs: { name: 'Ada' }, http: [post(), { method: 'GET', url: '/contacts/c1' }], outputs: { contact: [contact] } },
      { name: 'invalid inputs', inputs: { name: 7 } },
      { name: 'no expectations', inputs: { name: 'Ada' }, http: [post()] },
    ],
  });
  const whoami = blockFixture('acme.whoami', {
    output_schema: { type: 'object', properties: { credential: { type: ['object', 'null'] } } },
    credentials: { provider: 'acme', kinds: ['oauth2', 'api_key'] },
    tests: [
      { name: 'api key', inputs: {}, credential: { api_key: 'k1' }, outputs: { credential: [{ kind: 'api_key', api_key: 'k1' }] } },
      { name: 'oauth2 token', inputs: {}, credential: { access_token: 't1', scopes: 'a b' }, outputs: { credential: [{ kind: 'oauth2', access_token: 't1', scopes: ['a', 'b'] }] } },
      { name: 'no credential', inputs: {}, outputs: { credential: [null] } },
      { name: 'unfit credential', inputs: {}, credential: { password: 'x' } },
    ],
  });
  const slow = blockFixture('acme.slow', { tests: [{ name: 'times out', inputs: {} }] });
  const ghost = blockFixture('acme.ghost', { tests: [{ name: 'has no handler', inputs: {} }] });
  const brokenSchema = blockFixture('acme.broken_schema', { output_schema: { type: 'object', properties: { x: { pattern: '(' } } }, tests: [{ name: 'cannot compile', inputs: {} }] });
  const untested = blockFixture('acme.untested');
  const manifest = manifestFixture({
    name: 'acme',
    providers: [{ name: 'acme', display_name: 'Acme', base_url: BASE, auth: [{ type: 'api_key', in: 'header', name: 'X-Key' }, { type: 'oauth2', authorize_url: 'https://a.test/auth', token_url: 'https://a.test/token' }] }],
    blocks: [createContact, whoami, slow, ghost, brokenSchema, untested],
  });
  return pluginFixture(manifest, entryFixture);
}

describe('runSelfTests', () => {
  after(removeFixtures);
  let report: SelfTestReport;
  let results: SelfTestResult[];
  let seen: string[];
  const reasonOf = (name: string) => results.find((r) => r.name === name)!.reason;

  before(async function () {
    this.timeout(10_000);
    seen = [];
    report = await runSelfTests(selfTestPluginFixture(), { timeoutMs: 300, onResult: (r) => seen.push(r.name) });
    results = report.results;
  });

  it('counts passes and failures, reporting each case as it finishes', () => {
    expect(report).to.include({ plugin: 'acme', passed: 6, failed: 12, ok: false });
    expect(seen).to.deep.equal(results.map((r) => r.name));
  });

  it('runs every case of every block, in manifest order', () => {
    expect(results.map((r) => `${r.blockId}: ${r.name}`)).to.deep.equal([
      'acme.create_contact: creates a contact',
      'acme.create_contact: wrong value',
      'acme.create_contact: missing and extra outputs',
      'acme.create_contact: expected error',
      'acme.create_contact: error expected, none came',
      'acme.create_contact: another error',
      'acme.create_contact: unexpected request',
      'acme.create_contact: request not matching',
      'acme.create_contact: exchange never requested',
      'acme.create_contact: invalid inputs',
      'acme.create_contact: no expectations',
      'acme.whoami: api key',
      'acme.whoami: oauth2 token',
      'acme.whoami: no credential',
      'acme.whoami: unfit credential',
      'acme.slow: times out',
      'acme.ghost: has no handler',
      'acme.broken_schema: cannot compile',
    ]);
  });

  it('passes a case whose outputs match deeply, with relative URLs against the base URL', () => {
    expect(reasonOf('creates a contact')).to.equal(null);
    expect(results[0]!.outcome).to.deep.include({ status: 'completed', outputs: { contact: [contact] } });
    expect(reasonOf('no expectations')).to.equal(null);
  });

  it('fails a case whose outputs differ, naming each output', () => {
    expect(reasonOf('wrong value')).to.equal('output contact: expected [{"id":"c2"}], got [{"id":"c1","name":"Ada"}]');
    expect(reasonOf('missing and extra outputs')).to.equal('unexpected output contact: [{"id":"c1","name":"Ada"}]; output other: expected ["x"], got none');
  });

  it('compares an expected error as a substring of the failure', () => {
    expect(reasonOf('expected error')).to.equal(null);
    expect(reasonOf('error expected, none came')).to.equal('expected an error containing "answered 409", but it completed with outputs {"contact":[{"id":"c1","name":"Ada"}]}');
    expect(reasonOf('another error')).to.equal('expected an error containing "answered 409", got "Acme answered 500"');
  });

  it('fails a case on a request it did not mock, or one that does not match, naming the request', () => {
    expect(reasonOf('unexpected request')).to.equal(`unexpected request #1 POST ${BASE}/contacts: only 0 exchange(s) are mocked`);
    expect(reasonOf('request not matching')).to.equal(`request #1 POST ${BASE}/contacts: body {"name":"Ada"} is not the expected {"name":"Bob"}`);
  });

  it('fails a case that leaves a mocked exchange unrequested', () => {
    expect(reasonOf('exchange never requested')).to.equal('1 mocked exchange(s) not requested: GET /contacts/c1');
  });

  it('runs with input validation on', () => {
    expect(reasonOf('invalid inputs')).to.equal('failed: invalid inputs for block acme.create_contact: /name: must be string');
  });

  it("gives the handler the case's credential, as the kind the block accepts", () => {
    expect(reasonOf('api key')).to.equal(null);
    expect(reasonOf('oauth2 token')).to.equal(null);
    expect(reasonOf('no credential')).to.equal(null);
    expect(reasonOf('unfit credential')).to.equal('credential with "password" fits none of oauth2 ("access_token"), api_key ("api_key")');
  });

  it('stops a case at its time limit', () => {
    expect(reasonOf('times out')).to.equal('failed: block acme.slow timed out after 300 ms');
  });

  it('fails the cases of a block without a handler, or whose schemas do not compile', () => {
    expect(reasonOf('has no handler')).to.equal('no handler exported for acme.ghost');
    expect(reasonOf('cannot compile')).to.match(/^block acme\.broken_schema: output_schema\/properties\/x is not a valid JSON Schema: Invalid regular expression/);
  });

  it('formats results as one line each', () => {
    expect(formatSelfTestResult(results[0]!)).to.equal('✓ acme.create_contact: creates a contact');
    expect(formatSelfTestResult(results[1]!)).to.equal('✗ acme.create_contact: wrong value: output contact: expected [{"id":"c2"}], got [{"id":"c1","name":"Ada"}]');
  });

  it('runs the example plugin’s self-tests', async () => {
    const report = await runSelfTests(EXAMPLE_PLUGIN);
    expect(report.results.length).to.be.greaterThan(0);
    expect(report.results.filter((r) => !r.ok).map(formatSelfTestResult)).to.deep.equal([]);
  });

  it('throws when the plugin cannot load', async () => {
    let error: unknown;
    await runSelfTests(pluginFixture(manifestFixture({ version: 'x' }))).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(PluginFolderError);
    expect((error as Error).message).to.match(/^invalid manifest .*blockyard\.plugin\.json: \/version: must match pattern/);
    error = undefined;
    await runSelfTests(pluginFixture(manifestFixture({ entry: './missing.mjs' }))).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('entry point ./missing.mjs does not exist (was the plugin built?)');
  });
});

describe('toResolvedCredential', () => {
  it('maps credential fields to the kind they fit, among the kinds given', () => {
    expect(toResolvedCredential({ api_key: 'k' })).to.deep.equal({ kind: 'api_key', api_key: 'k' });
    expect(toResolvedCredential({ access_token: 't' })).to.deep.equal({ kind: 'oauth2', access_token: 't', scopes: [] });
    expect(toResolvedCredential({ username: 'u', password: 'p' })).to.deep.equal({ kind: 'user_password', username: 'u', password: 'p' });
    expect(toResolvedCredential({ host: 'api.x.test', 'X-Token': 'y' })).to.deep.equal({ kind: 'host_scoped', host: 'api.x.test', headers: { 'X-Token': 'y' } });
    expect(toResolvedCredential({ api_key: 'k', access_token: 't' }, ['oauth2', 'api_key'])).to.deep.include({ kind: 'oauth2' });
    expect(toResolvedCredential({ api_key: 'k' }, ['oauth2'])).to.equal('credential with "api_key" fits none of oauth2 ("access_token")');
  });
});
