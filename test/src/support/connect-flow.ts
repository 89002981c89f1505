import { expect } from 'chai';
import { formField, type Browser, type PageResponse } from './oauth-flow.js';

/** The parameters an app puts on /connect/:provider, as the external API guide builds them. */
export interface ConnectParams {
  clientId: string;
  scopes: readonly string[];
  nonce: string;
  redirectOrigin: string;
}

/** `/connect/:provider?client_id&scopes&nonce&redirect_origin` (scopes comma-joined, as the guide does). */
export function connectPath(provider: string, p: ConnectParams): string {
  const url = new URL(`http://x/connect/${encodeURIComponent(provider)}`);
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('scopes', p.scopes.join(','));
  url.searchParams.set('nonce', p.nonce);
  url.searchParams.set('redirect_origin', p.redirectOrigin);
  return url.pathname + url.search;
}

/** What a result page's script would post: the message and the target origin. */
export interface PostedMessage {
  message: Record<string, unknown>;
  origin: string;
}

/**
 * The message a connect result page posts to its opener, read off the one script it serves
 * (and checked: the script carries the CSP nonce the page's policy allows, calls
 * `window.opener.postMessage(message, origin)` and nothing else that posts); null when the
 * page has no script (nothing is posted).
 */
export function postedMessage(page: PageResponse): PostedMessage | null {
  const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  if (!scripts.length) return null;
  expect(scripts, 'one script').to.have.length(1);
  const [, attributes, code] = scripts[0]!;
  const nonce = /nonce="([^"]+)"/.exec(attributes!)?.[1];
  expect(nonce, 'the script has a CSP nonce').to.be.a('string');
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).to.contain(`script-src 'nonce-${nonce}'`);
  expect(csp).not.to.match(/script-src[^;]*unsafe/);
  const message = /var message = (.*);\n/.exec(code!)?.[1];
  const origin = /var origin = (.*);\n/.exec(code!)?.[1];
  expect(message, code).to.be.a('string');
  expect(origin, code).to.be.a('string');
  expect(code).to.contain('window.opener.postMessage(message, origin);');
  expect(code!.match(/postMessage/g)).to.have.length(1);
  return { message: JSON.parse(message!) as Record<string, unknown>, origin: JSON.parse(origin!) as string };
}

/** The connect page's main form, as a person would submit it: its hidden fields, a credential and a decision. */
export function connectForm(page: PageResponse, decision: string, extra: Record<string, string> = {}): Record<string, string> {
  const form: Record<string, string> = { decision, ...extra };
  for (const name of ['client_id', 'scopes', 'nonce', 'redirect_origin', 'csrf_token']) form[name] = formField(page.body, name);
  return form;
}

/**
 * Opens the connect page in a signed-in browser, chooses `credentialId` and allows: the
 * result page and the message it posts.
 */
export async function connectWithCredential(browser: Browser, provider: string, params: ConnectParams, credentialId: string): Promise<{ page: PageResponse; posted: PostedMessage | null }> {
  const path = connectPath(provider, params);
  const connect = await browser.send('GET', path);
  expect(connect.status, connect.body).to.equal(200);
  const page = await browser.send('POST', `/connect/${provider}`, connectForm(connect, 'allow', { credential_id: credentialId }));
  return { page, posted: postedMessage(page) };
}
