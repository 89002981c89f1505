/**
 * A third-party app getting a user's access token with plain fetch, as an app written from the
 * external API guide does: the user signs in through the login form, the app sends them through
 * `GET /oauth/authorize` with PKCE S256, they press Allow on the consent page, and the app
 * exchanges the code at `POST /oauth/token`. Only what the bench needs to set itself up.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A browser stand-in: a cookie jar (names and values only) and no redirects followed by fetch. */
class CookieBrowser {
  readonly #jar = new Map<string, string>();
  constructor(readonly base: string) {}

  async send(method: string, pathOrUrl: string, form?: Record<string, string>): Promise<{ status: number; body: string; location: string | null }> {
    const headers: Record<string, string> = { accept: 'text/html' };
    if (this.#jar.size) headers.cookie = [...this.#jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const res = await fetch(url, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    const body = await res.text();
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]!;
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (!value || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.#jar.delete(pair.slice(0, eq));
      else this.#jar.set(pair.slice(0, eq), value);
    }
    return { status: res.status, body, location: res.headers.get('location') };
  }

  isOwn(location: string): boolean {
    return location.startsWith('/') || location.startsWith(this.base);
  }
}

function formField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} field in the page:\n${html.slice(0, 2000)}`);
  return value;
}

export interface OAuthLogin {
  base: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  user: { email: string; password: string };
  scope: string;
}

/** Signs the user in, authorizes the app with PKCE S256 and answers the access token. */
export async function accessTokenFor(login: OAuthLogin): Promise<string> {
  const browser = new CookieBrowser(login.base);
  const loginPage = await browser.send('GET', '/login?next=%2Faccount');
  const signedIn = await browser.send('POST', '/login', { email: login.user.email, password: login.user.password, csrf_token: formField(loginPage.body, 'csrf_token'), next: '/account' });
  if (signedIn.status !== 302 && signedIn.status !== 303) throw new Error(`sign-in failed (${signedIn.status}): ${signedIn.body}`);

  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${login.base}/oauth/authorize`);
  const state = randomBytes(8).toString('hex');
  const params = {
    response_type: 'code',
    client_id: login.clientId,
    redirect_uri: login.redirectUri,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    scope: login.scope,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  let res = await browser.send('GET', url.toString());
  while (res.location && browser.isOwn(res.location)) res = await browser.send('GET', res.location);
  if (res.status !== 200) throw new Error(`expected the consent page, got ${res.status} ${res.location ?? ''}: ${res.body}`);
  const action = /<form method="post" action="([^"]+)"/.exec(res.body)?.[1];
  if (!action) throw new Error(`no consent form in:\n${res.body.slice(0, 2000)}`);
  res = await browser.send('POST', action, { csrf_token: formField(res.body, 'csrf_token'), decision: 'allow' });
  while (res.location && browser.isOwn(res.location)) res = await browser.send('GET', res.location);
  if (!res.location?.startsWith(login.redirectUri)) throw new Error(`expected a redirect to ${login.redirectUri}, got ${res.status} ${res.location}: ${res.body}`);
  const back = new URL(res.location).searchParams;
  const code = back.get('code');
  if (!code || back.get('state') !== state) throw new Error(`authorization failed: ${res.location}`);

  const tokenRes = await fetch(`${login.base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: login.redirectUri, code_verifier: verifier, client_id: login.clientId, client_secret: login.clientSecret }).toString(),
  });
  const tokens = (await tokenRes.json()) as { access_token?: string };
  if (tokenRes.status !== 200 || !tokens.access_token) throw new Error(`token exchange failed (${tokenRes.status}): ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}
