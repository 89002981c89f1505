import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import {
  OutboundRequestError,
  type ContextFetch,
  type FetchRequest,
  type FetchResponse,
  type OutboundFetchOptions,
  type OutboundHttp,
} from '@blockyard/core';
import { AddressPolicy, stripBrackets } from './address-policy.js';
import { CredentialInjector } from './credential-injector.js';
import { guardedLookup, systemResolver, type HostResolver } from './guarded-lookup.js';
import { parseBody, readBody, tooLarge } from './response-body.js';
import { isIdempotent, isRetryableStatus, retryDelayMs } from './retry-policy.js';

export interface NodeOutboundHttpOptions {
  /**
   * Internal hosts requests may reach despite the SSRF guard: hostnames (exact, any port; any
   * address they resolve to is then allowed), IP addresses or CIDR ranges
   * (`['127.0.0.1', 'localhost', '10.0.0.0/8']`).
   */
  allowHosts?: string[];
  /** Time limit of each attempt (connect, headers and body), unless the request sets its own. Default 30 s. */
  timeoutMs?: number;
  /** Attempts after the first, on network errors, timeouts, 429 and 5xx. Default 3. */
  maxRetries?: number;
  /** Redirects followed before `too_many_redirects`. Default 5. */
  maxRedirects?: number;
  /** Largest (decoded) response body read before `response_too_large`. Default 10 MiB. */
  maxResponseBytes?: number;
  /** First retry's backoff; each next one doubles, with jitter. Default 250 ms. */
  retryBaseDelayMs?: number;
  /** Longest wait before a retry, `Retry-After` included. Default 10 s. */
  maxRetryDelayMs?: number;
  /** Resolves hostnames to addresses before the guard checks them. Default: `dns.lookup` with `all: true`. */
  resolveHost?: HostResolver;
  /** `User-Agent` sent when the caller sets none. Default `blockyard`. */
  userAgent?: string;
}

const DEFAULTS = {
  timeoutMs: 30_000,
  maxRetries: 3,
  maxRedirects: 5,
  maxResponseBytes: 10 * 1024 * 1024,
  retryBaseDelayMs: 250,
  maxRetryDelayMs: 10_000,
  userAgent: 'blockyard',
};

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that carry someone's identity or name the first origin: never sent on to another origin after a redirect. */
const CROSS_ORIGIN_DROPPED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'host'];
/** Headers describing a body, dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/** One request on the wire: where, how, and with which (already injected) headers. */
interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** False: a 3xx is answered as it is (`redirect: 'manual'`). */
  followRedirects: boolean;
  /** True: the body is read but not kept, `data` is '' (`discardBody`). */
  discardBody: boolean;
}

type AttemptOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; data: unknown }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'retry'; retryAfter: string | undefined };

/**
 * `OutboundHttp` on undici: one keep-alive connection pool per instance, whose sockets connect
 * only to addresses the SSRF guard has checked (see `guardedLookup`).
 */
export class NodeOutboundHttp implements OutboundHttp {
  readonly #agent: Agent;
  readonly #policy: AddressPolicy;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #maxRedirects: number;
  readonly #maxResponseBytes: number;
  readonly #backoff: { baseDelayMs: number; maxDelayMs: number };
  readonly #userAgent: string;

  constructor(options: NodeOutboundHttpOptions = {}) {
    this.#policy = new AddressPolicy(options.allowHosts);
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.#maxRetries = count('maxRetries', options.maxRetries ?? DEFAULTS.maxRetries);
    this.#maxRedirects = count('maxRedirects', options.maxRedirects ?? DEFAULTS.maxRedirects);
    this.#maxResponseBytes = count('maxResponseBytes', options.maxResponseBytes ?? DEFAULTS.maxResponseBytes);
    this.#backoff = {
      baseDelayMs: delay('retryBaseDelayMs', options.retryBaseDelayMs ?? DEFAULTS.retryBaseDelayMs),
      maxDelayMs: delay('maxRetryDelayMs', options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs),
    };
    this.#userAgent = options.userAgent ?? DEFAULTS.userAgent;
    this.#agent = new Agent({ connect: { lookup: guardedLookup(this.#policy, options.resolveHost ?? systemResolver) } });
  }

  createFetch(options: OutboundFetchOptions): ContextFetch {
    const injector = options.credential ? new CredentialInjector(options.credential) : null;
    const baseUrl = options.baseUrl;
    const run = options.signal ? new RunSignal(options.signal) : null;
    return (url, request) => this.#fetch(url, request ?? {}, injector, baseUrl, run) as Promise<FetchResponse<never>>;
  }

  /** Closes the pooled connections; requests after this fail. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #fetch(url: string, request: FetchRequest, injector: CredentialInjector | null, baseUrl: string | undefined, signal: RunSignal | null): Promise<FetchResponse> {
    if (signal?.aborted) throw new OutboundRequestError('aborted', `request to ${describeInput(url)} aborted: the run was cancelled`);
    let target = resolveUrl(url, baseUrl);
    if (request.query) {
      for (const [name, value] of Object.entries(request.query)) if (value !== undefined) target.searchParams.set(name, String(value));
    }
    let method = (request.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = { 'user-agent': this.#userAgent };
    if (request.headers) for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    let body = request.body;
    if (request.json !== undefined) {
      if (body !== undefined) throw new TypeError('context.fetch: pass json or body, not both');
      body = JSON.stringify(request.json);
      headers['content-type'] ??= 'application/json';
    }
    const timeoutMs = request.timeoutMs === undefined ? this.#timeoutMs : positive('timeoutMs', request.timeoutMs);
    const retries = request.retry === false ? 0 : request.retry === true || isIdempotent(method) ? this.#maxRetries : 0;
    let credential = injector;

    for (let redirects = 0; ; redirects++) {
      this.#guardLiteral(target);
      const sent = credential ? { ...headers } : headers;
      const sendUrl = credential ? credential.apply(target, sent) : target;
      const outcome = await this.#exchange({ url: sendUrl, method, headers: sent, body, followRedirects: request.redirect !== 'manual', discardBody: request.discardBody === true }, timeoutMs, retries, signal);
      if (outcome.kind === 'response') {
        return { status: outcome.status, ok: outcome.status >= 200 && outcome.status <= 299, headers: outcome.headers, data: outcome.data, url: credential ? credential.redact(target) : target.href };
      }
      let next: URL;
      try {
        next = new URL(outcome.location, target);
      } catch (err) {
        throw new OutboundRequestError('invalid_url', `${describe(method, target)}: redirect to an invalid URL`, { cause: safeCause(err) });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new OutboundRequestError('invalid_url', `${describe(method, target)}: redirect to an unsupported protocol ${next.protocol}`);
      if (redirects >= this.#maxRedirects) throw new OutboundRequestError('too_many_redirects', `${describe(method, target)}: more than ${this.#maxRedirects} redirects`);
      if ((outcome.status === 303 && method !== 'HEAD') || ((outcome.status === 301 || outcome.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) delete headers[name];
      }
      if (next.origin !== target.origin) {
        // The new origin was chosen by the server, not by the provider's declared auth: it gets no credential, now or later.
        for (const name of CROSS_ORIGIN_DROPPED_HEADERS) delete headers[name];
        if (credential) for (const name of credential.headerNames) delete headers[name];
        credential = null;
      }
      target = next;
    }
  }

  /** Refuses a URL whose host is an internal IP literal (names are checked when their socket connects). */
  #guardLiteral(url: URL): void {
    const host = stripBrackets(url.hostname);
    if (!isIP(host)) return;
    const reason = this.#policy.blockedReason(host);
    if (reason) throw new OutboundRequestError('blocked_address', `request to ${host} blocked: ${reason} address`);
  }

  /** One hop, with its retries. */
  async #exchange(hop: Hop, timeoutMs: number, retries: number, signal: RunSignal | null): Promise<Exclude<AttemptOutcome, { kind: 'retry' }>> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      let outcome: AttemptOutcome;
      try {
        outcome = await this.#attempt(hop, timeoutMs, signal, last);
      } catch (err) {
        if (last || !(err instanceof OutboundRequestError) || (err.code !== 'network' && err.code !== 'timeout')) throw err;
        await sleep(retryDelayMs(attempt + 1, undefined, this.#backoff), signal, hop);
        continue;
      }
      if (outcome.kind !== 'retry') return outcome;
      await sleep(retryDelayMs(attempt + 1, outcome.retryAfter, this.#backoff), signal, hop);
    }
  }

  /** One attempt under its own time limit, which covers reading the body too. */
  async #attempt(hop: Hop, timeoutMs: number, signal: RunSignal | null, last: boolean): Promise<AttemptOutcome> {
    if (signal?.aborted) throw new OutboundRequestError('aborted', `${describe(hop.method, hop.url)}: aborted, the run was cancelled`);
    // undici takes an EventEmitter emitting 'abort' as the request's signal (documented beside
    // AbortSignal). It is used here because an AbortController per attempt cost about 8 µs of
    // the ~35 µs a small keep-alive request takes (see bench/README.md, P3).
    const abort = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
    }, timeoutMs);
    const onAbort = (): void => void abort.emit('abort');
    signal?.listen(onAbort);
    try {
      const response = await this.#agent.request({
        origin: hop.url.origin,
        path: hop.url.pathname + hop.url.search,
        method: hop.method as Dispatcher.HttpMethod,
        headers: hop.headers,
        body: hop.body,
        signal: abort,
      });
      const status = response.statusCode;
      const headers = flattenHeaders(response.headers);
      if (hop.followRedirects && REDIRECT_STATUSES.has(status) && headers.location !== undefined) {
        await discard(response.body);
        return { kind: 'redirect', status, location: headers.location };
      }
      if (!last && isRetryableStatus(status)) {
        await discard(response.body);
        return { kind: 'retry', retryAfter: headers['retry-after'] };
      }
      const describeHop = (): string => describe(hop.method, hop.url);
      const declared = headers['content-length'] === undefined ? NaN : Number(headers['content-length']);
      if (declared > this.#maxResponseBytes && !headers['content-encoding']) {
        response.body.destroy();
        throw tooLarge(this.#maxResponseBytes, describeHop);
      }
      const buffer = await readBody(response.body as Readable, headers['content-encoding'], this.#maxResponseBytes, describeHop, !hop.discardBody);
      return { kind: 'response', status, headers, data: hop.method === 'HEAD' || hop.discardBody ? '' : parseBody(buffer, headers['content-type']) };
    } catch (err) {
      if (err instanceof OutboundRequestError) throw err;
      if (signal?.aborted) throw new OutboundRequestError('aborted', `${describe(hop.method, hop.url)}: aborted, the run was cancelled`);
      if (timedOut) throw new OutboundRequestError('timeout', `${describe(hop.method, hop.url)}: no complete response within ${timeoutMs} ms`);
      throw networkError(err, hop);
    } finally {
      clearTimeout(timer);
      signal?.unlisten(onAbort);
    }
  }
}

/** A relative URL is appended to the base URL's path (`https://api.x.com/v1` + `/users` = `https://api.x.com/v1/users`). */
function resolveUrl(url: string, baseUrl: string | undefined): URL {
  let resolved: URL;
  try {
    resolved = URL.canParse(url) ? new URL(url) : new URL(joinUrl(baseUrl, url));
  } catch (err) {
    throw new OutboundRequestError('invalid_url', `invalid URL ${describeInput(url)}${baseUrl === undefined ? ' (relative, and there is no base URL)' : ''}`, { cause: safeCause(err) });
  }
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') throw new OutboundRequestError('invalid_url', `invalid URL ${describeInput(url)}: only http and https are supported`);
  return resolved;
}

function joinUrl(baseUrl: string | undefined, url: string): string {
  if (baseUrl === undefined) throw new TypeError('relative URL without a base URL');
  if (url === '' || url.startsWith('?') || url.startsWith('#')) return baseUrl + url;
  return `${baseUrl.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/** The caller's URL for a message: without its query string, which may hold a secret. */
function describeInput(url: string): string {
  const end = url.search(/[?#]/);
  return JSON.stringify((end === -1 ? url : url.slice(0, end)).slice(0, 200));
}

/** `GET https://host/path` — never the query string, which may carry the credential. */
function describe(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Reads and drops a body we do not need, so its connection can serve the next request. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump();
  } catch {
    // the connection is closed instead; nothing else to do
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function networkError(err: unknown, hop: Hop): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_INVALID_ARG') return new TypeError(`${describe(hop.method, hop.url)}: ${(err as Error).message}`);
  const what = err instanceof Error ? err.message || String(code ?? err.name) : String(err);
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return new OutboundRequestError('timeout', `${describe(hop.method, hop.url)}: ${what}`, { cause: safeCause(err) });
  return new OutboundRequestError('network', `${describe(hop.method, hop.url)} failed: ${what}`, { cause: safeCause(err) });
}

/**
 * The underlying error reduced to its name, code and message: the original may hold
 * references to the request (its headers, so the credential) that must not travel with a
 * thrown error.
 */
function safeCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const copy = new Error(err.message);
  copy.name = err.name;
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

/** Waits before a retry; the run's abort ends the wait at once, with no further attempt. */
function sleep(ms: number, signal: RunSignal | null, hop: Hop): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): OutboundRequestError => new OutboundRequestError('aborted', `${describe(hop.method, hop.url)}: aborted, the run was cancelled`);
    if (signal?.aborted) return reject(aborted());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.unlisten(onAbort);
      resolve();
    }, ms);
    signal?.listen(onAbort);
  });
}

/**
 * The run's abort signal, listened to once per `createFetch` however many requests are in
 * flight: one listener on the caller's signal fans out to the attempts and waits of this run,
 * instead of one listener each (which also trips Node's max-listeners warning at 11).
 */
class RunSignal {
  readonly #signal: AbortSignal;
  readonly #listeners = new Set<() => void>();
  #attached = false;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  get aborted(): boolean {
    return this.#signal.aborted;
  }

  listen(listener: () => void): void {
    if (!this.#attached) {
      this.#attached = true;
      this.#signal.addEventListener('abort', () => {
        for (const l of [...this.#listeners]) l();
        this.#listeners.clear();
      }, { once: true });
    }
    this.#listeners.add(listener);
  }

  unlisten(listener: () => void): void {
    this.#listeners.delete(listener);
  }
}

/** Longest delay a Node timer takes (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) throw new TypeError(`${name} must be a number of milliseconds above 0 and at most ${MAX_TIMER_MS} (got ${value})`);
  return value;
}

function delay(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) throw new TypeError(`${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS} (got ${value})`);
  return value;
}

function count(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a whole number ≥ 0 (got ${value})`);
  return value;
}
