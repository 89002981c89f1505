import { createHash, randomBytes } from 'node:crypto';
import { createFullKey, runBlockyard } from './cli.js';
import { freePort, makeDataDir, startServerProcess, type ServerProcess } from './server-process.js';

/** `blockyard users create`, the password piped on stdin. */
export async function createUser(email: string, name: string, password: string, env: Record<string, string>): Promise<void> {
  const result = await runBlockyard(['users', 'create', '--email', email, '--name', name], env, { stdin: `${password}\n` });
  if (result.code !== 0) throw new Error(`users create failed (${result.code}): ${result.stderr}`);
}

export interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
}

/**
 * A browser stand-in over fetch: a cookie jar (names only: paths and expiry aside, which these
 * tests do not depend on), no redirects followed unless asked, every body kept.
 */
export class Browser {
  readonly jar = new Map<string, string>();
  readonly bodies: string[] = [];
  constructor(readonly base: string) {}

  async send(method: string, pathOrUrl: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
    const h: Record<string, string> = { accept: 'text/html', ...headers };
    if (this.jar.size) h.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) h['content-type'] = 'application/x-www-form-urlencoded';
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const res = await fetch(url, { method, headers: h, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    const body = await res.text();
    this.bodies.push(body);
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (!value || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, headers: res.headers, body, location: res.headers.get('location') };
  }

  /** Follows same-site redirects from `path` until a page or a redirect off this site. */
  async follow(path: string, limit = 10): Promise<PageResponse> {
    let res = await this.send('GET', path);
    for (let i = 0; i < limit && res.location && this.isOwn(res.location); i++) res = await this.send('GET', res.location);
    return res;
  }

  isOwn(location: string): boolean {
    return location.startsWith('/') || location.startsWith(this.base);
  }

  /** Signs in through the login form (its CSRF token and cookie), as a person would. */
  async signIn(email: string, password: string, next = '/account'): Promise<PageResponse> {
    const page = await this.send('GET', `/login?next=${encodeURIComponent(next)}`);
    const csrf = formField(page.body, 'csrf_token');
    const res = await this.send('POST', '/login', { email, password, csrf_token: csrf, next });
    if (res.status !== 302 && res.status !== 303) throw new Error(`sign-in failed (${res.status}): ${res.body}`);
    return res;
  }
}

/** The value of a hidden form field in a page; throws when it is missing. */
export function formField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} field in:\n${html}`);
  return value;
}

/** A PKCE pair: a random verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface TokenResponse {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

/** A third-party app, as the external API guide's example writes it, with plain fetch. */
export class OAuthApp {
  constructor(
    readonly base: string,
    readonly clientId: string,
    readonly clientSecret: string | null,
    readonly redirectUri: string,
  ) {}

  /** The authorization URL with PKCE S256 (overrides replace or, when undefined, drop parameters). */
  authorizeUrl(options: { scope: string; state?: string; challenge?: string; overrides?: Record<string, string | undefined> }): string {
    const url = new URL(`${this.base}/oauth/authorize`);
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      state: options.state ?? randomBytes(8).toString('hex'),
      code_challenge: options.challenge,
      code_challenge_method: options.challenge ? 'S256' : undefined,
      scope: options.scope,
      ...options.overrides,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  /**
   * Sends the browser through authorize: login form when needed, the consent page, Allow (or
   * Deny); answers the redirect to the app with its query, and the consent page seen.
   */
  async authorize(
    browser: Browser,
    options: { scope: string; user?: { email: string; password: string }; decision?: 'allow' | 'deny'; state?: string },
  ): Promise<{ code: string | null; params: URLSearchParams; verifier: string; consent: PageResponse; state: string }> {
    const { verifier, challenge } = pkcePair();
    const state = options.state ?? randomBytes(8).toString('hex');
    let res = await browser.send('GET', this.authorizeUrl({ scope: options.scope, state, challenge }));
    while (res.location && browser.isOwn(res.location) && !res.location.includes('/login')) res = await browser.send('GET', res.location);
    if (res.location?.includes('/login')) {
      if (!options.user) throw new Error('the browser is not signed in and no user was given');
      const next = new URL(res.location, this.base).searchParams.get('next')!;
      await browser.signIn(options.user.email, options.user.password, next);
      res = await browser.send('GET', next);
    }
    if (res.status !== 200) throw new Error(`expected the consent page, got ${res.status} ${res.location ?? ''}: ${res.body}`);
    const consent = res;
    const action = /<form method="post" action="([^"]+)"/.exec(consent.body)?.[1];
    if (!action) throw new Error(`no consent form in:\n${consent.body}`);
    res = await browser.send('POST', action, { csrf_token: formField(consent.body, 'csrf_token'), decision: options.decision ?? 'allow' });
    while (res.location && browser.isOwn(res.location)) res = await browser.send('GET', res.location);
    if (!res.location?.startsWith(this.redirectUri)) throw new Error(`expected a redirect to ${this.redirectUri}, got ${res.status} ${res.location}: ${res.body}`);
    const params = new URL(res.location).searchParams;
    return { code: params.get('code'), params, verifier, consent, state };
  }

  /** POST /oauth/token with form parameters and this client's credentials (in the body, as the guide does). */
  async token(params: Record<string, string>, auth: { secret?: string | null; basic?: boolean } = {}): Promise<TokenResponse> {
    const secret = auth.secret === undefined ? this.clientSecret : auth.secret;
    const form: Record<string, string> = { ...params };
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth.basic && secret) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    else {
      form.client_id = this.clientId;
      if (secret) form.client_secret = secret;
    }
    const res = await fetch(`${this.base}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
    return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
  }

  exchange(code: string, verifier: string, extra: Record<string, string> = {}): Promise<TokenResponse> {
    return this.token({ grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, code_verifier: verifier, ...extra });
  }

  refresh(refreshToken: string, scope?: string): Promise<TokenResponse> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope ? { scope } : {}) });
  }

  async revoke(token: string, hint?: string): Promise<{ status: number; text: string }> {
    const form: Record<string, string> = { token, client_id: this.clientId, ...(hint ? { token_type_hint: hint } : {}) };
    if (this.clientSecret) form.client_secret = this.clientSecret;
    const res = await fetch(`${this.base}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    return { status: res.status, text: await res.text() };
  }

  async userinfo(accessToken: string): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${this.base}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }
}

/** A server process on its own data dir and port, with one user who holds a full-access API key. */
export interface ServerWithUser {
  server: ServerProcess;
  /** `http://127.0.0.1:<port>`, also the server's BLOCKYARD_PUBLIC_URL (OAuth redirects need it before the start). */
  base: string;
  dataDir: string;
  /** The user's full-access key (client management needs every scope). */
  key: string;
  /** The environment the CLI and the server got, without PORT and BLOCKYARD_PUBLIC_URL. */
  env: Record<string, string>;
}

/**
 * What the app-facing end-to-end specs start from: a fresh data dir, the user created through
 * the CLI (with `user.password` for the login form), a full-access key for them, then the server
 * on a port known in advance. `env` adds to or overrides BLOCKYARD_DATA_DIR.
 */
export async function startServerWithUser(user: { email: string; name: string; password: string }, env: Record<string, string> = {}): Promise<ServerWithUser> {
  const dataDir = makeDataDir();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const fullEnv = { BLOCKYARD_DATA_DIR: dataDir, ...env };
  await createUser(user.email, user.name, user.password, fullEnv);
  const key = await createFullKey(fullEnv);
  const server = await startServerProcess({ ...fullEnv, PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
  return { server, base, dataDir, key, env: fullEnv };
}
