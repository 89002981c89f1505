import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in does next; tests change it between steps. */
export interface OAuthProviderBehaviour {
  /** expires_in of the access tokens it issues, in seconds. */
  expiresIn: number;
  /** Waits this long before answering the token endpoint. */
  delayMs: number;
  /** The authorize endpoint redirects back with error=access_denied. */
  denyAuthorization: boolean;
  /** The token endpoint rejects the refresh_token grant with invalid_grant. */
  rejectRefresh: boolean;
  /** The next N token requests answer 503 (a transient failure). */
  transientFailures: number;
  /** The code exchange answers 400 with this error (e.g. invalid_client). */
  codeError: string | null;
  /** The revoke endpoint answers 503. */
  failRevoke: boolean;
}

export interface OAuthProviderStandIn {
  url: string;
  clientId: string;
  clientSecret: string;
  behaviour: OAuthProviderBehaviour;
  /** Token endpoint calls by grant type, and revocations (the token values revoked). */
  calls: { authorize: number; authorizationCode: number; refreshToken: number; revoked: string[] };
  /** Every token value it issued (for secrecy scans). */
  issued: string[];
  /** Access tokens issued by refresh_token grants, in order. */
  refreshedAccessTokens: string[];
  /** Every request to its API (`/api/...`), in order. */
  apiRequests: StandInApiRequest[];
  /** Follows a login URL as a browser would: the callback URL the provider redirects to. */
  authorize(loginUrl: string): Promise<URL>;
  close(): Promise<void>;
}

/** A request to the stand-in's API, as it arrived. */
export interface StandInApiRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The bearer token, when it came with one. */
  bearer: string | null;
  /** What the API answered. */
  status: number;
}

const DEFAULTS: OAuthProviderBehaviour = { expiresIn: 3600, delayMs: 0, denyAuthorization: false, rejectRefresh: false, transientFailures: 0, codeError: null, failRevoke: false };

/**
 * A local OAuth2 provider on 127.0.0.1: `/authorize` (redirects back with a code, or
 * access_denied), `/token` (authorization_code with PKCE S256 checked, refresh_token; form
 * bodies, client id and secret checked), `/revoke` (RFC 7009). It can be told to issue
 * short-lived tokens, reject refreshes with invalid_grant, fail transiently, or delay, and it
 * counts every call.
 *
 * It also plays the provider's API under `/api/` (use `${url}/api` as the base URL): every
 * request is recorded with its headers; a bearer token it issued must be live (issued, not
 * expired, not revoked) or the answer is 401 `invalid_token`; other requests (API keys, basic
 * auth, custom headers) are answered 200 and left for the test to check in `apiRequests`.
 * `GET /api/whoami` answers `{ login, via }` (no secret in it).
 */
export async function startOAuthProvider(options: { clientId?: string; clientSecret?: string } = {}): Promise<OAuthProviderStandIn> {
  const clientId = options.clientId ?? 'stand-in-client';
  const clientSecret = options.clientSecret ?? 'stand-in-client-secret';
  const behaviour: OAuthProviderBehaviour = { ...DEFAULTS };
  const calls = { authorize: 0, authorizationCode: 0, refreshToken: 0, revoked: [] as string[] };
  const issued: string[] = [];
  const refreshedAccessTokens: string[] = [];
  const apiRequests: StandInApiRequest[] = [];
  /** Live access tokens -> when they expire (ms). */
  const accessTokens = new Map<string, number>();
  const codes = new Map<string, { redirectUri: string; challenge: string | null; scope: string }>();
  const refreshTokens = new Set<string>();
  const token = (prefix: string) => {
    const value = `${prefix}_${randomBytes(12).toString('hex')}`;
    issued.push(value);
    return value;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url!, 'http://stand-in');
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(value));
        };
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));

        if (req.method === 'GET' && url.pathname === '/authorize') {
          calls.authorize += 1;
          const q = Object.fromEntries(url.searchParams);
          const back = new URL(q.redirect_uri!);
          if (q.client_id !== clientId || q.response_type !== 'code') return json(400, { error: 'invalid_request' });
          if (q.state) back.searchParams.set('state', q.state);
          if (behaviour.denyAuthorization) {
            back.searchParams.set('error', 'access_denied');
            back.searchParams.set('error_description', 'The user said no');
          } else {
            const code = randomBytes(12).toString('hex');
            codes.set(code, { redirectUri: q.redirect_uri!, challenge: q.code_challenge_method === 'S256' ? (q.code_challenge ?? null) : null, scope: q.scope ?? '' });
            back.searchParams.set('code', code);
          }
          res.writeHead(302, { location: back.toString() });
          return res.end();
        }

        if (req.method === 'POST' && url.pathname === '/token') {
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (form.grant_type === 'authorization_code') calls.authorizationCode += 1;
          if (form.grant_type === 'refresh_token') calls.refreshToken += 1;
          if (behaviour.transientFailures > 0) {
            behaviour.transientFailures -= 1;
            return json(503, { error: 'temporarily_unavailable' });
          }
          if (form.client_id !== clientId || form.client_secret !== clientSecret) return json(401, { error: 'invalid_client' });
          const tokens = (scope: string) => {
            const access = token('at');
            const refresh = token('rt');
            refreshTokens.add(refresh);
            accessTokens.set(access, Date.now() + behaviour.expiresIn * 1000);
            if (form.grant_type === 'refresh_token') refreshedAccessTokens.push(access);
            return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: behaviour.expiresIn, scope };
          };
          if (form.grant_type === 'authorization_code') {
            if (behaviour.codeError) return json(400, { error: behaviour.codeError, error_description: 'told to fail' });
            const grant = codes.get(form.code ?? '');
            codes.delete(form.code ?? '');
            if (!grant || grant.redirectUri !== form.redirect_uri) return json(400, { error: 'invalid_grant', error_description: 'unknown code or redirect_uri' });
            if (grant.challenge && createHash('sha256').update(form.code_verifier ?? '').digest('base64url') !== grant.challenge) {
              return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
            }
            return json(200, tokens(grant.scope));
          }
          if (form.grant_type === 'refresh_token') {
            if (behaviour.rejectRefresh || !refreshTokens.has(form.refresh_token ?? '')) return json(400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
            return json(200, tokens('repo'));
          }
          return json(400, { error: 'unsupported_grant_type' });
        }

        if (req.method === 'POST' && url.pathname === '/revoke') {
          if (behaviour.failRevoke) return json(503, { error: 'temporarily_unavailable' });
          if (form.client_id !== clientId || form.client_secret !== clientSecret) return json(401, { error: 'invalid_client' });
          calls.revoked.push(form.token ?? '');
          refreshTokens.delete(form.token ?? '');
          accessTokens.delete(form.token ?? '');
          res.writeHead(200);
          return res.end();
        }
        if (url.pathname.startsWith('/api/')) {
          const authorization = req.headers.authorization ?? '';
          const bearer = /^Bearer (.+)$/.exec(authorization)?.[1] ?? null;
          const record = (status: number) => apiRequests.push({ method: req.method!, url: req.url!, headers: { ...req.headers }, bearer, status });
          if (bearer !== null && !((accessTokens.get(bearer) ?? 0) > Date.now())) {
            record(401);
            res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' });
            return res.end(JSON.stringify({ error: 'invalid_token' }));
          }
          const via = bearer !== null ? 'oauth2' : authorization.startsWith('Basic ') ? 'basic' : 'headers';
          if (url.pathname === '/api/whoami') {
            record(200);
            return json(200, { login: 'standin-user', via });
          }
          record(404);
          return json(404, { error: 'not_found' });
        }
        json(404, { error: 'not_found' });
      })().catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    clientId,
    clientSecret,
    behaviour,
    calls,
    issued,
    refreshedAccessTokens,
    apiRequests,
    async authorize(loginUrl: string) {
      const res = await fetch(loginUrl, { redirect: 'manual' });
      const location = res.headers.get('location');
      if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
      return new URL(location);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
