import { expect } from 'chai';
import { OutboundRequestError } from '@blockyard/plugin-sdk';
import { NOTION_VERSION, notionError, notionId, notionRequest, retryAfterSeconds } from './notion-api.js';
import { contextFixture, fetchMock } from '@blockyard/plugin-sdk/testing';

const errorBody = (status: number, code: string, message: string) => ({ object: 'error', status, code, message, request_id: 'r1' });

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as { message: string }).message;
  }
  throw new Error('expected a failure');
}

describe('notionRequest', () => {
  it('sends the Notion-Version header and the JSON body, and answers the JSON of a 2xx', async () => {
    const mock = fetchMock({ data: { object: 'page', id: 'p1' } });
    expect(await notionRequest(contextFixture(mock.fetch), 'POST', '/pages', { a: 1 })).to.deep.equal({ object: 'page', id: 'p1' });
    expect(NOTION_VERSION).to.equal('2022-06-28');
    expect(mock.calls).to.deep.equal([{ url: '/pages', method: 'POST', request: { method: 'POST', headers: { 'Notion-Version': '2022-06-28', accept: 'application/json' }, json: { a: 1 } } }]);
  });

  it('sends no body when there is none, and asks for retries only when told', async () => {
    const mock = fetchMock({ data: {} }, { data: {} });
    await notionRequest(contextFixture(mock.fetch), 'GET', '/users/me');
    await notionRequest(contextFixture(mock.fetch), 'POST', '/databases/d/query', {}, { retry: true });
    expect('json' in mock.calls[0]!.request).to.equal(false);
    expect(mock.calls.map((c) => c.request.retry)).to.deep.equal([undefined, true]);
  });

  it('fails with the error message of a non-2xx answer', async () => {
    const mock = fetchMock({ status: 404, data: errorBody(404, 'object_not_found', 'Could not find database with ID: abc.') });
    expect(await failure(notionRequest(contextFixture(mock.fetch), 'POST', '/databases/abc/query', {}))).to.equal('Notion: not found: Could not find database with ID: abc.');
  });

  it('names the code when the API cannot be reached', async () => {
    const mock = fetchMock(new OutboundRequestError('network', 'connect ECONNREFUSED'));
    expect(await failure(notionRequest(contextFixture(mock.fetch), 'GET', '/users/me'))).to.equal('Notion: could not reach the API: network: connect ECONNREFUSED');
  });

  it('lets the abort reason through when the run was cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const mock = fetchMock(new OutboundRequestError('aborted', 'aborted'));
    let error: unknown;
    await notionRequest(contextFixture(mock.fetch, { signal: controller.signal }), 'GET', '/users/me').catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(OutboundRequestError);
  });
});

describe('notionError', () => {
  it('unauthorized: credential rejected', () => {
    expect(notionError(401, {}, errorBody(401, 'unauthorized', 'API token is invalid.')).message).to.equal('Notion: credential rejected: API token is invalid.');
  });
  it('restricted_resource: permission denied', () => {
    expect(notionError(403, {}, errorBody(403, 'restricted_resource', 'Insufficient permissions for this endpoint.')).message).to.equal('Notion: permission denied: Insufficient permissions for this endpoint.');
  });
  it('object_not_found: not found', () => {
    expect(notionError(404, {}, errorBody(404, 'object_not_found', 'Could not find page with ID: x.')).message).to.equal('Notion: not found: Could not find page with ID: x.');
  });
  it('validation_error and other 400s: invalid request with Notion’s message', () => {
    expect(notionError(400, {}, errorBody(400, 'validation_error', 'body.properties.title should be defined.')).message).to.equal('Notion: invalid request: body.properties.title should be defined.');
    expect(notionError(400, {}, errorBody(400, 'invalid_json', 'Error parsing JSON body.')).message).to.equal('Notion: invalid request: Error parsing JSON body.');
  });
  it('rate_limited: retry after the Retry-After seconds', () => {
    expect(notionError(429, { 'retry-after': '3' }, errorBody(429, 'rate_limited', 'You have been rated limited.')).message).to.equal('Notion: rate limited; retry after 3 s');
    expect(notionError(429, {}, errorBody(429, 'rate_limited', 'x')).message).to.equal('Notion: rate limited; retry later');
  });
  it('conflict_error: conflict', () => {
    expect(notionError(409, {}, errorBody(409, 'conflict_error', 'Conflict occurred while saving.')).message).to.equal('Notion: conflict, try again: Conflict occurred while saving.');
  });
  it('5xx or a body that is not Notion’s: status, code and message', () => {
    expect(notionError(503, {}, errorBody(503, 'service_unavailable', 'Notion is unavailable.')).message).to.equal('Notion: HTTP 503 service_unavailable: Notion is unavailable.');
    expect(notionError(502, {}, '<html>Bad gateway</html>').message).to.equal('Notion: HTTP 502: <html>Bad gateway</html>');
    expect(notionError(500, {}, '').message).to.equal('Notion: HTTP 500: HTTP 500');
  });
});

describe('retryAfterSeconds', () => {
  it('reads seconds or an HTTP date, null otherwise', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterSeconds('2', now)).to.equal(2);
    expect(retryAfterSeconds('Wed, 01 Jan 2025 00:00:09 GMT', now)).to.equal(9);
    expect(retryAfterSeconds(undefined, now)).to.equal(null);
    expect(retryAfterSeconds('soon', now)).to.equal(null);
  });
});

describe('notionId', () => {
  it('keeps an id, dashed or not', () => {
    expect(notionId('d9824bdc84454327be8b5b47500af6ce', 'x')).to.equal('d9824bdc84454327be8b5b47500af6ce');
    expect(notionId(' d9824bdc-8445-4327-be8b-5b47500af6ce ', 'x')).to.equal('d9824bdc-8445-4327-be8b-5b47500af6ce');
  });
  it('takes the id out of a Notion URL', () => {
    expect(notionId('https://www.notion.so/acme/Roadmap-D9824BDC84454327BE8B5B47500AF6CE?v=0123', 'x')).to.equal('d9824bdc84454327be8b5b47500af6ce');
    expect(notionId('https://www.notion.so/d9824bdc84454327be8b5b47500af6ce/', 'x')).to.equal('d9824bdc84454327be8b5b47500af6ce');
  });
  it('refuses anything else, naming the input, so that nothing else reaches a path', () => {
    for (const value of ['..', '../users/me', 'abc', 'https://www.notion.so/acme/Roadmap']) {
      expect(() => notionId(value, 'database_id')).to.throw().with.property('message', `database_id is not a Notion id or URL: ${JSON.stringify(value)}`);
    }
  });
});
