import { isDeepStrictEqual } from 'node:util';
import type { MockedHttpExchange } from '@blockyard/contracts';
import type { ContextFetch, FetchRequest, FetchResponse } from '@blockyard/core';

/**
 * A mocked exchange (mocked-http-exchange.schema.json). `body` and `request_body` are any JSON
 * value, which the generated contract type narrows to an object (the schema gives them no type).
 */
export type MockExchange = Omit<MockedHttpExchange, 'body' | 'request_body'> & { body?: unknown; request_body?: unknown };

export interface MockHttpOptions {
  /** The provider's base URL: relative URLs (of requests and of exchanges) resolve against it. */
  baseUrl?: string;
}

/**
 * A stand-in for context.fetch that answers a self-test's requests from its mocked exchanges,
 * in order. Request n must match exchange n: same method, same URL (relative URLs appended to
 * the provider's base URL, as context.fetch does; the query string is compared, in any order,
 * only when the exchange gives one), and, when the exchange has `request_body`, a JSON body
 * equal to it. A request that does not match, or comes after the last exchange, is rejected
 * (fetch throws) and recorded; exchanges left unrequested are reported by `problems()`.
 */
export class MockHttp {
  readonly #exchanges: readonly MockExchange[];
  readonly #baseUrl: string | undefined;
  #next = 0;
  readonly #failures: string[] = [];

  constructor(exchanges: readonly MockExchange[] = [], options: MockHttpOptions = {}) {
    this.#exchanges = exchanges;
    this.#baseUrl = options.baseUrl;
  }

  /** A context.fetch for one run; it rejects at once when `signal` has aborted. */
  fetchFor(signal?: AbortSignal): ContextFetch {
    return (<T>(url: string, request: FetchRequest = {}) => this.#answer(url, request, signal)) as ContextFetch;
  }

  /** The mismatches and unexpected requests so far. */
  get failures(): readonly string[] {
    return this.#failures;
  }

  /** The exchanges no request has used. */
  get unused(): readonly MockExchange[] {
    return this.#exchanges.slice(this.#next);
  }

  /** Everything wrong with the requests made: failures, then exchanges never requested. Empty when all matched. */
  problems(): string[] {
    const unused = this.unused;
    const left = unused.length ? [`${unused.length} mocked exchange(s) not requested: ${unused.map((x) => `${x.method} ${x.url}`).join(', ')}`] : [];
    return [...this.#failures, ...left];
  }

  async #answer<T>(url: string, request: FetchRequest, signal: AbortSignal | undefined): Promise<FetchResponse<T>> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const n = this.#next + 1;
    const method = (request.method ?? 'GET').toUpperCase();
    const fail = (message: string): never => {
      this.#failures.push(message);
      throw new Error(`mocked HTTP: ${message}`);
    };
    let actual: URL;
    try {
      actual = resolveUrl(url, this.#baseUrl);
    } catch {
      return fail(`request #${n} ${method} ${url}: ${this.#baseUrl ? 'not a valid URL' : 'a relative URL, but the provider has no base_url'}`);
    }
    if (request.query) for (const [name, value] of Object.entries(request.query)) if (value !== undefined) actual.searchParams.set(name, String(value));

    const exchange = this.#exchanges[this.#next];
    if (!exchange) return fail(`unexpected request #${n} ${method} ${actual.href}: only ${this.#exchanges.length} exchange(s) are mocked`);
    this.#next++;
    let expected: URL;
    try {
      expected = resolveUrl(exchange.url, this.#baseUrl);
    } catch {
      return fail(`request #${n}: the mocked URL ${exchange.url} is ${this.#baseUrl ? 'not a valid URL' : 'relative, but the provider has no base_url'}`);
    }
    if (method !== exchange.method.toUpperCase() || !sameUrl(expected, actual)) {
      return fail(`request #${n}: expected ${exchange.method} ${expected.href}, got ${method} ${actual.href}`);
    }
    if (exchange.request_body !== undefined) {
      const body = jsonBody(request);
      if (!body.ok) return fail(`request #${n} ${method} ${actual.href}: ${body.why}, expected the JSON body ${JSON.stringify(exchange.request_body)}`);
      if (!isDeepStrictEqual(body.value, exchange.request_body)) {
        return fail(`request #${n} ${method} ${actual.href}: body ${JSON.stringify(body.value)} is not the expected ${JSON.stringify(exchange.request_body)}`);
      }
    }
    const status = exchange.status ?? 200;
    const headers = Object.fromEntries(Object.entries(exchange.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const data = exchange.body === undefined ? '' : structuredClone(exchange.body);
    return { status, ok: status >= 200 && status <= 299, headers, data: data as T, url: actual.href };
  }
}

export function createMockHttp(exchanges: readonly MockExchange[] = [], options: MockHttpOptions = {}): MockHttp {
  return new MockHttp(exchanges, options);
}

/** As context.fetch resolves it: an absolute URL as it is, a relative one appended to the base URL's path. */
export function resolveUrl(url: string, baseUrl: string | undefined): URL {
  if (URL.canParse(url)) return new URL(url);
  if (baseUrl === undefined) throw new TypeError('relative URL without a base URL');
  if (url === '' || url.startsWith('?') || url.startsWith('#')) return new URL(baseUrl + url);
  return new URL(`${baseUrl.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`);
}

function sameUrl(expected: URL, actual: URL): boolean {
  if (expected.origin !== actual.origin || expected.pathname !== actual.pathname) return false;
  if (!expected.search) return true;
  const sorted = (u: URL) => [...u.searchParams].map(([k, v]) => `${k}=${v}`).sort();
  return isDeepStrictEqual(sorted(expected), sorted(actual));
}

/** The request's body as JSON: its `json`, or its `body` parsed (as it would go on the wire). */
function jsonBody(request: FetchRequest): { ok: true; value: unknown } | { ok: false; why: string } {
  if (request.json !== undefined) return { ok: true, value: JSON.parse(JSON.stringify(request.json)) };
  if (request.body === undefined) return { ok: false, why: 'no body was sent' };
  const text = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, why: `the body ${JSON.stringify(text.slice(0, 80))} is not JSON` };
  }
}
