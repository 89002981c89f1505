// GitHub repository webhooks: signature check, events, and registering the hook on a repository.
// https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
// https://docs.github.com/rest/repos/webhooks
import { defineWebhookManager, hmacSha256Hex, safeEqual, type WebhookDelivery, type WebhookEvent } from '@blockyard/plugin-sdk';
import { GITHUB_HEADERS, githubError, repoPath } from './github-api.js';

const SIGNATURE_PREFIX = 'sha256=';

/** True when `X-Hub-Signature-256` is `sha256=` + the hex HMAC-SHA256 of the raw body with `secret`. */
export function verifyGitHubSignature(delivery: WebhookDelivery, secret: string): boolean {
  const signature = delivery.headers['x-hub-signature-256'];
  if (!secret || typeof signature !== 'string' || !signature.startsWith(SIGNATURE_PREFIX)) return false;
  const expected = SIGNATURE_PREFIX + hmacSha256Hex(secret, delivery.rawBody);
  return safeEqual(signature.toLowerCase(), expected);
}

/**
 * The one event of a delivery: its type is the `X-GitHub-Event` header (`issues`, `push`,
 * `ping` ...), its id `X-GitHub-Delivery`, its payload the JSON body. Hooks may also be
 * configured with content type `form`, whose body is a `payload` field holding the JSON.
 */
export function gitHubEvents(delivery: WebhookDelivery): WebhookEvent[] {
  const type = delivery.headers['x-github-event'];
  if (!type) return [];
  const payload = payloadOf(delivery);
  if (payload === undefined) return [];
  const deliveryId = delivery.headers['x-github-delivery'];
  return [deliveryId ? { type, payload, deliveryId } : { type, payload }];
}

function payloadOf(delivery: WebhookDelivery): Record<string, unknown> | undefined {
  let body = delivery.body;
  if (body === undefined || body === null || typeof body === 'string') body = parseJson(delivery.rawBody.toString('utf8'));
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const form = (body as { payload?: unknown }).payload;
    const contentType = delivery.headers['content-type'] ?? '';
    if (typeof form === 'string' && contentType.startsWith('application/x-www-form-urlencoded')) body = parseJson(form);
  }
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * GitHub's `ping`, sent when a hook is created or its Ping button is pressed: answered 200
 * without starting anything. https://docs.github.com/webhooks/webhook-events-and-payloads#ping
 */
export function gitHubHandshake(delivery: WebhookDelivery): { body: unknown } | null {
  return delivery.headers['x-github-event'] === 'ping' ? { body: { status: 'pong' } } : null;
}

/** Where a hook lives: `config.owner` and `config.repo` of the webhook's configuration. */
function repositoryOf(config: Record<string, unknown>): { owner: string; repo: string } {
  const { owner, repo } = config;
  const name = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}$/;
  if (typeof owner !== 'string' || !name.test(owner) || typeof repo !== 'string' || !name.test(repo)) {
    throw new Error('a GitHub webhook needs config.owner and config.repo: the repository to watch');
  }
  return { owner, repo };
}

export const gitHubWebhooks = defineWebhookManager({
  verify: verifyGitHubSignature,
  events: gitHubEvents,
  handshake: gitHubHandshake,

  /** POST /repos/{owner}/{repo}/hooks: a JSON `web` hook for `events`, signed with `secret`. */
  async register({ fetch, url, secret, events, config }) {
    const { owner, repo } = repositoryOf(config);
    const res = await fetch<{ id?: unknown }>(`${repoPath(owner, repo)}/hooks`, {
      method: 'POST',
      headers: { ...GITHUB_HEADERS },
      json: { name: 'web', active: true, events, config: { url, content_type: 'json', secret, insecure_ssl: '0' } },
    });
    if (!res.ok) throw new Error(`cannot register the webhook: ${githubError(res, { resource: `repository ${owner}/${repo}` }).message}`);
    const id = res.data?.id;
    if (typeof id !== 'number' && typeof id !== 'string') throw new Error(`cannot register the webhook: GitHub answered ${res.status} without a hook id`);
    return { externalId: String(id) };
  },

  /** DELETE /repos/{owner}/{repo}/hooks/{id}; a hook that is already gone (404) counts as removed. */
  async deregister({ fetch, externalId, config }) {
    const { owner, repo } = repositoryOf(config);
    const res = await fetch(`${repoPath(owner, repo)}/hooks/${encodeURIComponent(externalId)}`, { method: 'DELETE', headers: { ...GITHUB_HEADERS } });
    if (res.ok || res.status === 404) return;
    throw new Error(`cannot remove webhook ${externalId}: ${githubError(res, { resource: `webhook ${externalId} of ${owner}/${repo}` }).message}`);
  },
});
