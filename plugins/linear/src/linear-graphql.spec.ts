import { expect } from 'chai';
import { OutboundRequestError } from '@blockyard/plugin-sdk';
import { linearError, linearGraphql, retryAfterSeconds } from './linear-graphql.js';
import { contextFixture, fetchMock } from '@blockyard/plugin-sdk/testing';

const authError = { message: 'Authentication required, not authenticated', extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR', userPresentableMessage: 'You need to authenticate to access this operation.' } };

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as { message: string }).message;
  }
  throw new Error('expected a failure');
}

describe('linearGraphql', () => {
  it('POSTs { query, variables } as JSON to /graphql and answers data', async () => {
    const mock = fetchMock({ data: { data: { viewer: { id: 'u1' } } } });
    const data = await linearGraphql(contextFixture(mock.fetch), 'query { viewer { id } }', { a: 1 });
    expect(data).to.deep.equal({ viewer: { id: 'u1' } });
    expect(mock.calls).to.deep.equal([{ url: '/graphql', method: 'POST', request: { method: 'POST', headers: { accept: 'application/json' }, json: { query: 'query { viewer { id } }', variables: { a: 1 } } } }]);
  });

  it('asks the platform to retry only when told (reads)', async () => {
    const mock = fetchMock({ data: { data: {} } }, { data: { data: {} } });
    await linearGraphql(contextFixture(mock.fetch), 'query { a }', {}, { retry: true });
    await linearGraphql(contextFixture(mock.fetch), 'mutation { b }', {});
    expect(mock.calls.map((c) => c.request.retry)).to.deep.equal([true, undefined]);
  });

  it('fails on GraphQL errors that come with HTTP 200, even beside partial data', async () => {
    const mock = fetchMock({ status: 200, data: { data: { team: null }, errors: [{ message: 'Entity not found: Team', extensions: { type: 'invalid input', userPresentableMessage: 'Could not find referenced Team.' } }] } });
    expect(await failure(linearGraphql(contextFixture(mock.fetch), 'q', {}))).to.equal('Linear: not found: Could not find referenced Team.');
  });

  it('fails on an answer without data', async () => {
    const mock = fetchMock({ status: 200, data: {} });
    expect(await failure(linearGraphql(contextFixture(mock.fetch), 'q', {}))).to.equal('Linear: the answer had no data');
  });

  it('fails on a non-JSON error answer with its status and text', async () => {
    const mock = fetchMock({ status: 502, headers: { 'content-type': 'text/html' }, data: 'Bad gateway' });
    expect(await failure(linearGraphql(contextFixture(mock.fetch), 'q', {}))).to.equal('Linear: HTTP 502: Bad gateway');
  });

  it('names the code when the API cannot be reached', async () => {
    const mock = fetchMock(new OutboundRequestError('timeout', 'no answer within 30000 ms'));
    expect(await failure(linearGraphql(contextFixture(mock.fetch), 'q', {}))).to.equal('Linear: could not reach the API: timeout: no answer within 30000 ms');
  });

  it('never puts the credential in a failure message', async () => {
    const mock = fetchMock({ status: 401, data: { errors: [authError] } });
    const message = await failure(linearGraphql(contextFixture(mock.fetch, { credentials: { kind: 'api_key', api_key: 'lin_api_secret123' } }), 'q', {}));
    expect(message).to.not.contain('lin_api_secret123');
  });
});

describe('linearError', () => {
  it('401, or an authentication error at any status: credential rejected', () => {
    expect(linearError(401, {}, [authError]).message).to.equal('Linear: credential rejected: You need to authenticate to access this operation.');
    expect(linearError(400, {}, [authError]).message).to.equal('Linear: credential rejected: You need to authenticate to access this operation.');
    expect(linearError(401, {}, []).message).to.equal('Linear: credential rejected: HTTP 401');
  });

  it('403 or forbidden: permission denied', () => {
    expect(linearError(200, {}, [{ message: 'Forbidden', extensions: { type: 'forbidden', userPresentableMessage: 'You do not have access to this team.' } }]).message).to.equal('Linear: permission denied: You do not have access to this team.');
  });

  it('Entity not found: not found', () => {
    expect(linearError(200, {}, [{ message: 'Entity not found: Issue', extensions: { type: 'invalid input' } }]).message).to.equal('Linear: not found: Entity not found: Issue');
  });

  it('400 or invalid input: the validation message', () => {
    const errors = [{ message: 'Argument Validation Error', extensions: { type: 'invalid input', code: 'INVALID_INPUT', userPresentableMessage: 'title must not be empty' } }];
    expect(linearError(400, {}, errors).message).to.equal('Linear: invalid request: title must not be empty');
    expect(linearError(400, {}, [{ message: 'Cannot query field "nope" on type "Issue".', extensions: { type: 'graphql error' } }]).message).to.equal('Linear: invalid request: Cannot query field "nope" on type "Issue".');
  });

  it('joins distinct messages of several errors', () => {
    expect(linearError(400, {}, [{ message: 'a' }, { message: 'b' }, { message: 'a' }]).message).to.equal('Linear: invalid request: a; b');
  });

  it('429, or ratelimited at HTTP 400: retry after the seconds Linear gives', () => {
    expect(linearError(429, { 'retry-after': '30' }, []).message).to.equal('Linear: rate limited; retry after 30 s');
    const now = Date.now();
    const ratelimited = [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited', code: 'RATELIMITED' } }];
    expect(linearError(400, { 'x-ratelimit-requests-reset': String(now + 12_500) }, ratelimited).message).to.match(/^Linear: rate limited; retry after 1[23] s$/);
    expect(linearError(400, {}, ratelimited).message).to.equal('Linear: rate limited; retry later');
  });

  it('5xx: the status and message', () => {
    expect(linearError(500, {}, [{ message: 'Internal error' }]).message).to.equal('Linear: HTTP 500: Internal error');
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterSeconds({ 'retry-after': '7' }, now)).to.equal(7);
    expect(retryAfterSeconds({ 'retry-after': 'Wed, 01 Jan 2025 00:00:20 GMT' }, now)).to.equal(20);
  });
  it('falls back on the later X-RateLimit-*-Reset (epoch ms)', () => {
    expect(retryAfterSeconds({ 'x-ratelimit-requests-reset': String(now + 4000), 'x-ratelimit-complexity-reset': String(now + 9000) }, now)).to.equal(9);
  });
  it('answers null without either', () => {
    expect(retryAfterSeconds({}, now)).to.equal(null);
  });
});
