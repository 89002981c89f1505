import type { CredentialInjection } from '@blockyard/core';
import { normalizeHostname } from './address-policy.js';

/**
 * Puts a run's credential into its requests, as `CredentialInjection` says. Header names are
 * lower-cased and the credential's headers are set last, so a caller's header of the same name
 * never replaces it. Built once per `createFetch`, so each request only copies ready values.
 */
export class CredentialInjector {
  /** Lower-cased names of every header this credential may set (dropped on cross-origin redirects). */
  readonly headerNames: readonly string[];
  readonly #headers: ReadonlyArray<readonly [string, string]>;
  readonly #query: readonly [string, string] | null;
  /** For host_scoped: the only hostname its headers go to. */
  readonly #host: string | null;

  constructor(credential: CredentialInjection) {
    let headers: Array<[string, string]> = [];
    let query: [string, string] | null = null;
    let host: string | null = null;
    switch (credential.type) {
      case 'bearer':
        headers = [['authorization', `Bearer ${credential.token}`]];
        break;
      case 'header':
        headers = [[credential.name.toLowerCase(), credential.value]];
        break;
      case 'query':
        query = [credential.name, credential.value];
        break;
      case 'basic':
        headers = [['authorization', `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`]];
        break;
      case 'host_scoped':
        headers = Object.entries(credential.headers).map(([name, value]) => [name.toLowerCase(), value]);
        host = normalizeHostname(credential.host);
        break;
      default:
        throw new TypeError(`unknown credential injection type ${JSON.stringify((credential as { type?: unknown }).type)}`);
    }
    this.#headers = headers;
    this.#query = query;
    this.#host = host;
    this.headerNames = headers.map(([name]) => name);
  }

  /** Adds the credential to `headers` (in place) and returns the URL to send, with the query credential if there is one. */
  apply(url: URL, headers: Record<string, string>): URL {
    if (this.#host !== null && normalizeHostname(url.hostname) !== this.#host) return url;
    for (const [name, value] of this.#headers) headers[name] = value;
    if (this.#query === null) return url;
    const withQuery = new URL(url.href);
    withQuery.searchParams.set(this.#query[0], this.#query[1]);
    return withQuery;
  }

  /** `url` as a string without the query credential, should a redirect have carried it along. */
  redact(url: URL): string {
    if (this.#query === null || url.searchParams.get(this.#query[0]) !== this.#query[1]) return url.href;
    const redacted = new URL(url.href);
    redacted.searchParams.delete(this.#query[0]);
    return redacted.href;
  }
}
