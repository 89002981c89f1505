import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** The scopes the app asks for at /oauth/authorize (the guide's, plus integrations:list). */
export const GUIDE_APP_SCOPES = ['openid', 'profile', 'email', 'agents:execute', 'integrations:connect', 'integrations:list'];

export interface GuideAppOptions {
  /** Blockyard's origin (BLOCKYARD_PUBLIC_URL): the guide's `baseUrl`. */
  blockyard: string;
  /** The provider and integration scopes the Connect button asks for. */
  connect: { provider: string; scopes: string[] };
  /** The agent the Run button executes, and its inputs. */
  agent: { id: string; inputs: Record<string, unknown> };
  /** The app's name at registration. */
  name?: string;
}

/** One webhook request the app received, and what its checks said. */
export interface ReceivedWebhook {
  raw: string;
  headers: IncomingHttpHeaders;
  body: { event: string; timestamp: string; data: Record<string, any> };
  /** The guide's check passed (sha256= HMAC of JSON.stringify(req.body) with the webhook secret); a missing signature fails here. */
  guideVerified: boolean;
  /** The HMAC of the raw bytes matched too (the stricter check the README recommends). */
  rawVerified: boolean;
  /** X-Webhook-Timestamp equals the body's timestamp. */
  timestampMatches: boolean;
  /** Standard Webhooks' reference library verified webhook-id/-timestamp/-signature. */
  standardVerified: boolean;
  /** What the app answered. */
  status: number;
}

/** One execute the app sent (the Run button), and Blockyard's answer. */
export interface RunAttempt {
  status: number;
  body: Record<string, any>;
}

/**
 * A small third-party app on its own 127.0.0.1 port, written from the external API guide with
 * plain node:http and inline browser scripts (the guide's code, changed only in its base URL and
 * the connect message type):
 *
 * - `GET /`: a form to register the app with a Blockyard API key (the app's server calls
 *   `POST /oauth/clients/` with `Authorization: Bearer <key>`, as the guide's curl does), then a
 *   "Sign in with Blockyard" button (the guide's `getAuthorizationUrl`: PKCE S256 made in the
 *   browser with crypto.subtle, state and verifier in sessionStorage), then "Connect" (the
 *   guide's `requestGrant`: `window.open` of /connect/:provider and a `message` listener checking
 *   origin, type and nonce) and "Run agent".
 * - `GET /callback`: receives the code; its page checks the state and hands code + verifier to
 *   `POST /exchange`, where the app's server exchanges them for tokens with its client secret
 *   (the guide's `exchangeCode`) and reads `/oauth/userinfo`.
 * - `POST /run`: the guide's `executeAgent` with the grant and `webhook_url` = `/webhook`.
 * - `POST /webhook`: verifies each delivery as the guide's handler does (401 if it fails).
 *
 * It serves one user at a time (its state is in memory, no sessions of its own). The test waits
 * on what it records with `waitFor`.
 */
export class GuideApp {
  readonly events = new EventEmitter();
  /** Codes that reached /callback (with their state). */
  readonly callbacks: Array<{ code: string | null; state: string | null; error: string | null }> = [];
  readonly webhooks: ReceivedWebhook[] = [];
  readonly runs: RunAttempt[] = [];
  client: { client_id: string; client_secret: string; webhook_secret: string } | null = null;
  tokens: { access_token: string; refresh_token: string; token_type: string; expires_in: number; scope: string } | null = null;
  userinfo: { sub: string; name?: string; email?: string } | null = null;
  grant: { grant_id: string; credential_id: string; provider: string } | null = null;
  url = '';
  private server: Server | null = null;

  constructor(readonly options: GuideAppOptions) {}

  get redirectUri(): string {
    return `${this.url}/callback`;
  }

  get webhookUrl(): string {
    return `${this.url}/webhook`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`app error: ${(e as Error).message}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  /**
   * Resolves with what `probe` finds (the first truthy answer), asking again whenever the app
   * records something; rejects after `timeoutMs` saying what it waited for and what the app has.
   */
  waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
    const found = probe();
    if (found) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const onChange = () => {
        const hit = probe();
        if (!hit) return;
        clearTimeout(timer);
        this.events.off('change', onChange);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.events.off('change', onChange);
        const seen = { callbacks: this.callbacks, grant: this.grant, runs: this.runs, webhooks: this.webhooks.map((w) => ({ ...w.body, status: w.status })) };
        reject(new Error(`the app did not get ${what} within ${timeoutMs} ms; it has: ${JSON.stringify(seen).slice(0, 3000)}`));
      }, timeoutMs);
      this.events.on('change', onChange);
    });
  }

  /** The guide's getExecutionStatus, with the app's access token. */
  async executionStatus(executionId: string): Promise<{ status: number; body: Record<string, any> }> {
    const res = await fetch(`${this.options.blockyard}/api/external/v1/executions/${executionId}`, { headers: { Authorization: `Bearer ${this.tokens!.access_token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  private changed(): void {
    this.events.emit('change');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
        return html(res, 200, this.homePage());
      case 'POST /register':
        return this.register(res, new URLSearchParams(raw).get('api_key') ?? '');
      case 'GET /callback':
        this.callbacks.push({ code: url.searchParams.get('code'), state: url.searchParams.get('state'), error: url.searchParams.get('error') });
        this.changed();
        return html(res, 200, this.callbackPage());
      case 'POST /exchange':
        return this.exchange(res, JSON.parse(raw) as { code: string; code_verifier: string });
      case 'POST /grants': {
        const data = JSON.parse(raw) as { grant_id: string; credential_id: string; provider: string };
        this.grant = { grant_id: data.grant_id, credential_id: data.credential_id, provider: data.provider };
        this.changed();
        return json(res, 200, { ok: true });
      }
      case 'POST /run':
        return this.run(res);
      case 'POST /webhook':
        return this.webhook(res, raw, req.headers);
      default:
        return json(res, 404, { detail: 'not found' });
    }
  }

  /** The guide's step 1, from the app's server: POST /oauth/clients/ with the user's key as a bearer. */
  private async register(res: ServerResponse, apiKey: string): Promise<void> {
    const response = await fetch(`${this.options.blockyard}/oauth/clients/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: this.options.name ?? 'Guide App',
        description: 'A third-party app written from the external API guide',
        client_type: 'confidential',
        redirect_uris: [this.redirectUri],
        webhook_domains: ['127.0.0.1'],
      }),
    });
    const body = (await response.json()) as Record<string, any>;
    if (response.status !== 201) return html(res, 400, `<p id="error">Registration failed: ${escapeHtml(JSON.stringify(body))}</p>`);
    this.client = { client_id: body.client_id, client_secret: body.client_secret, webhook_secret: body.webhook_secret };
    this.changed();
    res.writeHead(303, { location: '/' }).end();
  }

  /** The guide's exchangeCode (state already checked by the callback page), then /oauth/userinfo. */
  private async exchange(res: ServerResponse, input: { code: string; code_verifier: string }): Promise<void> {
    const response = await fetch(`${this.options.blockyard}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: this.redirectUri,
        client_id: this.client!.client_id,
        client_secret: this.client!.client_secret,
        code_verifier: input.code_verifier,
      }),
    });
    if (!response.ok) return json(res, 400, { detail: `token exchange failed: ${response.status} ${await response.text()}` });
    this.tokens = (await response.json()) as GuideApp['tokens'];
    const info = await fetch(`${this.options.blockyard}/oauth/userinfo`, { headers: { Authorization: `Bearer ${this.tokens!.access_token}` } });
    if (info.ok) this.userinfo = (await info.json()) as GuideApp['userinfo'];
    this.changed();
    json(res, 200, { ok: true });
  }

  /** The guide's executeAgent with the grant and this app's webhook URL. */
  private async run(res: ServerResponse): Promise<void> {
    const response = await fetch(`${this.options.blockyard}/api/external/v1/executions/agents/${this.options.agent.id}/execute`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.tokens!.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: this.options.agent.inputs, grant_ids: this.grant ? [this.grant.grant_id] : null, webhook_url: this.webhookUrl }),
    });
    const attempt: RunAttempt = { status: response.status, body: (await response.json()) as Record<string, any> };
    this.runs.push(attempt);
    this.changed();
    json(res, 200, attempt);
  }

  /**
   * The guide's webhook handler: the HMAC-SHA256 of JSON.stringify(req.body) (the body parsed as
   * express.json() parses it) with the webhook secret must equal X-Webhook-Signature after
   * `sha256=`, else 401. Stricter than the guide in one way: an unsigned request is refused too.
   * The other checks are recorded for the test.
   */
  private webhook(res: ServerResponse, raw: string, headers: IncomingHttpHeaders): void {
    const secret = this.client?.webhook_secret ?? '';
    const reqBody = JSON.parse(raw) as ReceivedWebhook['body'];
    const signature = headers['x-webhook-signature'];
    let guideVerified = false;
    if (signature) {
      const expectedSignature = createHmac('sha256', secret).update(JSON.stringify(reqBody)).digest('hex');
      guideVerified = signature === `sha256=${expectedSignature}`;
    }
    const rawExpected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
    const given = Buffer.from(typeof signature === 'string' ? signature : '');
    const rawVerified = given.length === rawExpected.length && timingSafeEqual(given, rawExpected);
    let standardVerified = false;
    try {
      // The secret as shown at registration, as the README says the standard's libraries take it.
      new Webhook(secret).verify(raw, headers as Record<string, string>);
      standardVerified = true;
    } catch {
      /* recorded as not verified */
    }
    const status = guideVerified ? 200 : 401;
    this.webhooks.push({ raw, headers, body: reqBody, guideVerified, rawVerified, timestampMatches: headers['x-webhook-timestamp'] === reqBody.timestamp, standardVerified, status });
    this.changed();
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'OK' : 'Invalid signature');
  }

  private homePage(): string {
    const config = { baseUrl: this.options.blockyard, clientId: this.client?.client_id ?? null, redirectUri: this.redirectUri, scopes: GUIDE_APP_SCOPES, connect: this.options.connect };
    const setup = this.client
      ? `<p>Registered as <code id="client-id">${escapeHtml(this.client.client_id)}</code></p>`
      : `<form method="post" action="/register">
<label>Blockyard API key <input id="api-key" name="api_key" type="password"></label>
<button id="register" type="submit">Register with Blockyard</button>
</form>`;
    const signIn = this.client && !this.tokens ? `<button id="sign-in" type="button">Sign in with Blockyard</button>` : '';
    const signedIn = this.tokens
      ? `<p id="signed-in">Signed in as <span id="user-email">${escapeHtml(this.userinfo?.email ?? '?')}</span></p>
<button id="connect" type="button">Connect ${escapeHtml(this.options.connect.provider)}</button>
<p id="grant">${this.grant ? `Grant ${escapeHtml(this.grant.grant_id)}` : ''}</p>
<button id="run" type="button">Run agent</button>
<pre id="run-result"></pre>`
      : '';
    return `<h1>Guide App</h1>
${setup}
${signIn}
${signedIn}
<p id="error"></p>
<script>
const CONFIG = ${scriptJson(config)};
// --- the guide's helper methods (Complete Integration Example) ---
function base64UrlEncode(buffer) {
  return btoa(String.fromCharCode(...buffer)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
}
function generateCodeVerifier() {
  const array = new Uint8Array(32);
  crypto.getRandomValues(array);
  return base64UrlEncode(array);
}
async function generateCodeChallenge(verifier) {
  const encoder = new TextEncoder();
  const data = encoder.encode(verifier);
  const digest = await crypto.subtle.digest('SHA-256', data);
  return base64UrlEncode(new Uint8Array(digest));
}
// --- step 1 of the example: the authorization URL ---
async function getAuthorizationUrl(scopes) {
  const state = crypto.randomUUID();
  const codeVerifier = generateCodeVerifier();
  const codeChallenge = await generateCodeChallenge(codeVerifier);
  sessionStorage.setItem('oauth_state', state);
  sessionStorage.setItem('oauth_verifier', codeVerifier);
  const url = new URL(CONFIG.baseUrl + '/oauth/authorize');
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', CONFIG.clientId);
  url.searchParams.set('redirect_uri', CONFIG.redirectUri);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('scope', scopes.join(' '));
  return url.toString();
}
// --- step 3: the connect popup (message type blockyard_connect_result) ---
function requestGrant(provider, scopes) {
  return new Promise((resolve, reject) => {
    const nonce = crypto.randomUUID();
    const url = new URL(CONFIG.baseUrl + '/connect/' + provider);
    url.searchParams.set('client_id', CONFIG.clientId);
    url.searchParams.set('scopes', scopes.join(','));
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('redirect_origin', window.location.origin);
    const popup = window.open(url.toString(), 'connect', 'width=500,height=600');
    if (!popup) return reject(new Error('the popup was blocked'));
    const handler = (event) => {
      if (event.origin !== CONFIG.baseUrl) return;
      if (event.data?.type !== 'blockyard_connect_result') return;
      if (event.data?.nonce !== nonce) return;
      window.removeEventListener('message', handler);
      if (event.data.success) resolve(event.data);
      else reject(new Error(event.data.error_description));
    };
    window.addEventListener('message', handler);
  });
}
function show(id, text) { document.getElementById(id).textContent = text; }
document.getElementById('sign-in')?.addEventListener('click', async () => {
  window.location.href = await getAuthorizationUrl(CONFIG.scopes);
});
document.getElementById('connect')?.addEventListener('click', () => {
  requestGrant(CONFIG.connect.provider, CONFIG.connect.scopes)
    .then(async (data) => {
      await fetch('/grants', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });
      show('grant', 'Grant ' + data.grant_id);
    })
    .catch((e) => show('error', 'Connect failed: ' + e.message));
});
document.getElementById('run')?.addEventListener('click', async () => {
  show('run-result', '');
  const res = await fetch('/run', { method: 'POST' });
  const attempt = await res.json();
  show('run-result', attempt.status + ' ' + JSON.stringify(attempt.body));
});
</script>`;
  }

  /** The callback page: the guide's state check, then the code and verifier to the app's server. */
  private callbackPage(): string {
    return `<h1>Signing you in…</h1>
<p id="error"></p>
<script>
(async () => {
  const params = new URLSearchParams(window.location.search);
  const fail = (text) => { document.getElementById('error').textContent = text; };
  if (params.get('error')) return fail('Authorization failed: ' + params.get('error'));
  if (params.get('state') !== sessionStorage.getItem('oauth_state')) return fail('Invalid state');
  const res = await fetch('/exchange', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: params.get('code'), code_verifier: sessionStorage.getItem('oauth_verifier') }),
  });
  if (!res.ok) return fail(await res.text());
  window.location.replace('/');
})();
</script>`;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}

function html(res: ServerResponse, status: number, body: string): void {
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    .end(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Guide App</title></head><body>\n${body}\n</body></html>\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}
