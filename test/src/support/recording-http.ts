import type { ScanSource } from './secret-scan.js';

/** One HTTP response as it arrived: status line, headers and body text. */
export interface RecordedResponse {
  /** Unique per recorder: `#12 POST /api/v1/api-keys -> 201`. */
  label: string;
  method: string;
  url: string;
  status: number;
  /** `HTTP <status> <statusText>`, every header line (Set-Cookie ones each), a blank line, the body. */
  text: string;
}

export interface RecordedReply<T = any> {
  label: string;
  status: number;
  headers: Headers;
  /** The body parsed as JSON when it is JSON, else the text. */
  body: T;
  text: string;
  /** Set-Cookie headers of this response. */
  cookies: string[];
}

export interface RecordedRequestOptions {
  /** Sent as X-API-Key. */
  key?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as is (with content-type application/json unless headers say otherwise). */
  raw?: string;
  headers?: Record<string, string>;
  /** Send this recorder's cookies (default true). */
  cookies?: boolean;
}

/**
 * An HTTP client for end-to-end tests that keeps every response it gets, whole (status line,
 * headers, body), for secrecy scans. Redirects are not followed; Set-Cookie headers fill a
 * cookie jar that is sent back, as a browser would.
 */
export class RecordingHttp {
  readonly responses: RecordedResponse[] = [];
  readonly jar = new Map<string, string>();

  async send<T = any>(base: string, method: string, path: string, options: RecordedRequestOptions = {}): Promise<RecordedReply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers['x-api-key'] = options.key;
    if (options.cookies !== false && this.jar.size && !headers.cookie) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (options.raw !== undefined || options.json !== undefined) {
      body = options.raw ?? JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const url = new URL(path, base).href;
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const cookies = res.headers.getSetCookie();
    for (const cookie of cookies) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (!value || /expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0\b/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const label = `#${this.responses.length + 1} ${method} ${new URL(url).pathname} -> ${res.status}`;
    const headerLines: string[] = [];
    res.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headerLines.push(`${name}: ${value}`);
    });
    for (const cookie of cookies) headerLines.push(`set-cookie: ${cookie}`);
    this.responses.push({ label, method, url, status: res.status, text: `HTTP ${res.status} ${res.statusText}\n${headerLines.join('\n')}\n\n${text}` });
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* leave as text */
      }
    }
    return { label, status: res.status, headers: res.headers, body: parsed as T, text, cookies };
  }

  /** Every response as a scan source. */
  sources(): ScanSource[] {
    return this.responses.map((r) => ({ label: r.label, text: r.text }));
  }
}
