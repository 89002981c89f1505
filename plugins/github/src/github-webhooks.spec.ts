import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import type { WebhookDelivery } from '@blockyard/plugin-sdk';
import { gitHubWebhooks } from './github-webhooks.js';
import { fetchMock } from '@blockyard/plugin-sdk/testing';

const SECRET = 'It\'s a Secret to Everybody';

/** A delivery as GitHub sends it: the raw body, signed with `secret` unless told otherwise. */
function deliveryFixture(body: unknown, options: { secret?: string; headers?: Record<string, string>; rawBody?: string } = {}): WebhookDelivery {
  const raw = options.rawBody ?? JSON.stringify(body);
  const signature = 'sha256=' + createHmac('sha256', options.secret ?? SECRET).update(raw).digest('hex');
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': signature,
      ...options.headers,
    },
    rawBody: Buffer.from(raw),
    body,
  };
}

const issuesEvent = { action: 'opened', issue: { number: 1, title: 'Hi' }, repository: { full_name: 'octo/hello' } };

describe('github webhooks', () => {
  describe('verify', () => {
    it('accepts the HMAC-SHA256 of the raw body (GitHub docs test vector)', () => {
      // https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
      const delivery: WebhookDelivery = {
        headers: { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
        rawBody: Buffer.from('Hello, World!'),
        body: 'Hello, World!',
      };
      expect(gitHubWebhooks.verify(delivery, SECRET)).to.equal(true);
    });

    it('accepts a signed delivery', () => {
      expect(gitHubWebhooks.verify(deliveryFixture(issuesEvent), SECRET)).to.equal(true);
    });

    it('rejects a tampered body', () => {
      const delivery = deliveryFixture(issuesEvent);
      delivery.rawBody = Buffer.from(delivery.rawBody.toString().replace('opened', 'closed'));
      expect(gitHubWebhooks.verify(delivery, SECRET)).to.equal(false);
    });

    it('rejects a signature made with another secret', () => {
      expect(gitHubWebhooks.verify(deliveryFixture(issuesEvent, { secret: 'not the secret' }), SECRET)).to.equal(false);
    });

    it('rejects a delivery without the signature header', () => {
      const delivery = deliveryFixture(issuesEvent);
      delete delivery.headers['x-hub-signature-256'];
      expect(gitHubWebhooks.verify(delivery, SECRET)).to.equal(false);
    });

    it('rejects the legacy SHA-1 signature and an empty secret', () => {
      const delivery = deliveryFixture(issuesEvent);
      const sha1 = 'sha1=' + createHmac('sha1', SECRET).update(delivery.rawBody).digest('hex');
      expect(gitHubWebhooks.verify({ ...delivery, headers: { ...delivery.headers, 'x-hub-signature-256': sha1 } }, SECRET)).to.equal(false);
      expect(gitHubWebhooks.verify(deliveryFixture(issuesEvent, { secret: '' }), '')).to.equal(false);
    });
  });

  describe('handshake', () => {
    it('answers a ping (sent when a hook is created) and nothing else', () => {
      const ping = { zen: 'Design for failure.', hook_id: 5000, hook: { type: 'Repository', id: 5000, events: ['issues'] } };
      expect(gitHubWebhooks.handshake!(deliveryFixture(ping, { headers: { 'x-github-event': 'ping' } }))).to.deep.equal({ body: { status: 'pong' } });
      expect(gitHubWebhooks.handshake!(deliveryFixture(issuesEvent))).to.equal(null);
    });
  });

  describe('events', () => {
    it('is one event typed by X-GitHub-Event, with X-GitHub-Delivery as its id', () => {
      expect(gitHubWebhooks.events(deliveryFixture(issuesEvent))).to.deep.equal([{ type: 'issues', payload: issuesEvent, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' }]);
    });

    it('types other events by their header too (push, ping)', () => {
      const push = { ref: 'refs/heads/main', commits: [] };
      expect(gitHubWebhooks.events(deliveryFixture(push, { headers: { 'x-github-event': 'push' } }))[0]!.type).to.equal('push');
      expect(gitHubWebhooks.events(deliveryFixture({ zen: 'Keep it simple.', hook_id: 1 }, { headers: { 'x-github-event': 'ping' } }))[0]!.type).to.equal('ping');
    });

    it('reads the payload field of a form-encoded delivery', () => {
      const raw = 'payload=' + encodeURIComponent(JSON.stringify(issuesEvent));
      const delivery = deliveryFixture({ payload: JSON.stringify(issuesEvent) }, { rawBody: raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(gitHubWebhooks.events(delivery)[0]!.payload).to.deep.equal(issuesEvent);
    });

    it('parses the raw body when the server could not', () => {
      const delivery = deliveryFixture(undefined, { rawBody: JSON.stringify(issuesEvent) });
      expect(gitHubWebhooks.events(delivery)[0]!.payload).to.deep.equal(issuesEvent);
    });

    it('is empty without X-GitHub-Event or without a JSON object body', () => {
      const delivery = deliveryFixture(issuesEvent);
      delete delivery.headers['x-github-event'];
      expect(gitHubWebhooks.events(delivery)).to.deep.equal([]);
      expect(gitHubWebhooks.events(deliveryFixture(undefined, { rawBody: 'not json' }))).to.deep.equal([]);
    });
  });

  describe('register', () => {
    it('POSTs a JSON web hook to /repos/{owner}/{repo}/hooks and returns its id', async () => {
      const mock = fetchMock({ status: 201, data: { id: 12345678, type: 'Repository', name: 'web', active: true, events: ['issues'] } });
      const result = await gitHubWebhooks.register!({ fetch: mock.fetch, url: 'https://blockyard.example/webhooks/github/w1', secret: 's3cret', events: ['issues', 'push'], config: { owner: 'octo', repo: 'hello' } });
      expect(result).to.deep.equal({ externalId: '12345678' });
      expect(mock.calls).to.have.length(1);
      expect(mock.calls[0]!.method).to.equal('POST');
      expect(mock.calls[0]!.url).to.equal('/repos/octo/hello/hooks');
      expect(mock.calls[0]!.request.json).to.deep.equal({
        name: 'web',
        active: true,
        events: ['issues', 'push'],
        config: { url: 'https://blockyard.example/webhooks/github/w1', content_type: 'json', secret: 's3cret', insecure_ssl: '0' },
      });
    });

    it('needs config.owner and config.repo', async () => {
      const mock = fetchMock();
      let error: unknown;
      await gitHubWebhooks.register!({ fetch: mock.fetch, url: 'https://x.example/h', secret: 's', events: ['issues'], config: { owner: 'octo' } }).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('a GitHub webhook needs config.owner and config.repo: the repository to watch');
      expect(mock.calls).to.have.length(0);
    });

    it("throws with GitHub's message when it refuses, never with the secret", async () => {
      const mock = fetchMock({ status: 422, data: { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }] } });
      let error: unknown;
      await gitHubWebhooks.register!({ fetch: mock.fetch, url: 'https://x.example/h', secret: 'hook-secret', events: ['issues'], config: { owner: 'octo', repo: 'hello' } }).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('cannot register the webhook: GitHub rejected the request (422): Validation Failed (Hook already exists on this repository)');
      expect((error as Error).message).not.to.contain('hook-secret');
    });
  });

  describe('deregister', () => {
    it('DELETEs /repos/{owner}/{repo}/hooks/{id}', async () => {
      const mock = fetchMock({ status: 204 });
      await gitHubWebhooks.deregister!({ fetch: mock.fetch, externalId: '12345678', config: { owner: 'octo', repo: 'hello' } });
      expect(mock.calls.map((c) => [c.method, c.url])).to.deep.equal([['DELETE', '/repos/octo/hello/hooks/12345678']]);
    });

    it('counts a hook that is already gone as removed', async () => {
      const mock = fetchMock({ status: 404, data: { message: 'Not Found' } });
      await gitHubWebhooks.deregister!({ fetch: mock.fetch, externalId: '1', config: { owner: 'octo', repo: 'hello' } });
      expect(mock.calls).to.have.length(1);
    });

    it('throws on other failures', async () => {
      const mock = fetchMock({ status: 403, data: { message: 'Must have admin rights to Repository.' } });
      let error: unknown;
      await gitHubWebhooks.deregister!({ fetch: mock.fetch, externalId: '1', config: { owner: 'octo', repo: 'hello' } }).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal(
        "cannot remove webhook 1: GitHub refused access to webhook 1 of octo/hello (403): Must have admin rights to Repository.; check the credential's scopes and permissions",
      );
    });
  });
});
