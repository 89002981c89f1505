import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PluginManifest } from '@blockyard/contracts';
import { InMemoryBlockRegistry, ProviderRegistry } from '@blockyard/core';
import { loadPlugins } from '@blockyard/plugin-loader';
import { runPluginBlock } from '../support/plugin-harness.js';
import { ROOT } from '../support/paths.js';
import { startSlackApi, type SlackApiStandIn } from '../support/stand-ins/slack-api.js';

const PLUGIN = '@blockyard/plugin-slack';

describe('slack plugin on the platform', () => {
  let api: SlackApiStandIn;

  beforeEach(async () => {
    api = await startSlackApi({ tokens: { 'test-token': ['chat:write', 'channels:read'], 'read-only-token': ['channels:read'], 'full-token': ['chat:write', 'channels:read', 'groups:read'] } });
  });

  afterEach(async () => {
    await api.close();
  });

  const run = (blockId: string, inputs: Record<string, unknown>, token = 'test-token') =>
    runPluginBlock({ plugin: PLUGIN, blockId, inputs, credential: { kind: 'api_key', api_key: token }, baseUrl: api.url });

  const channel = (name: string) => api.channels.find((c) => c.name === name)!;

  describe('slack.post_message', () => {
    it('posts with the injected bot token as UTF-8 JSON, and outputs channel and ts', async () => {
      const outcome = await run('slack.post_message', { channel: channel('general').id, text: 'Deploy finished :rocket:' });
      expect(outcome.error).to.equal(null);
      const posted = channel('general').messages;
      expect(posted.map((m) => m.text)).to.deep.equal(['Deploy finished :rocket:']);
      expect(outcome.outputs).to.deep.equal({ message: [{ channel: channel('general').id, ts: posted[0]!.ts }] });

      expect(api.requests).to.have.length(1);
      const [request] = api.requests;
      expect(request).to.deep.include({ method: 'POST', apiMethod: 'chat.postMessage', body: { channel: channel('general').id, text: 'Deploy finished :rocket:' } });
      expect(request!.headers.authorization).to.equal('Bearer test-token');
      expect(request!.headers['content-type']).to.equal('application/json; charset=utf-8');
    });

    it('posts by channel name and replies in a thread', async () => {
      const first = await run('slack.post_message', { channel: '#deploys', text: 'Deploying v2' });
      const ts = (first.outputs.message![0] as { ts: string }).ts;
      const reply = await run('slack.post_message', { channel: '#deploys', text: 'Done', thread_ts: ts });
      expect(reply.status).to.equal('completed');
      expect(reply.outputs.message).to.deep.equal([{ channel: channel('deploys').id, ts: channel('deploys').messages[1]!.ts, thread_ts: ts }]);
      expect(channel('deploys').messages[1]).to.deep.include({ text: 'Done', thread_ts: ts });
    });

    it("explains Slack's ok:false answers (HTTP 200)", async () => {
      const cases: Array<[string, string]> = [
        ['C0NOSUCH00', 'Slack could not post to channel C0NOSUCH00: channel_not_found (the channel does not exist, or the bot cannot see it)'],
        ['#design', 'Slack could not post to channel #design: not_in_channel (invite the bot to the channel first)'],
        ['#old-project', 'Slack could not post to channel #old-project: is_archived (the channel is archived)'],
        ['#hr-private', 'Slack could not post to channel #hr-private: channel_not_found (the channel does not exist, or the bot cannot see it)'],
      ];
      for (const [target, message] of cases) {
        const outcome = await run('slack.post_message', { channel: target, text: 'hi' });
        expect(outcome.status, target).to.equal('failed');
        expect(outcome.error, target).to.equal(message);
        expect(outcome.outputs, target).to.deep.equal({});
      }
    });

    it('says the credential is rejected, without showing it', async () => {
      const outcome = await run('slack.post_message', { channel: '#general', text: 'hi' }, 'xoxb-revoked-secret');
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('Slack rejected the credential: invalid_auth');
      expect(JSON.stringify(outcome)).not.to.contain('xoxb-revoked-secret');
    });

    it('names the scope a token lacks', async () => {
      const outcome = await run('slack.post_message', { channel: '#general', text: 'hi' }, 'read-only-token');
      expect(outcome.error).to.equal('Slack could not post to channel #general: missing_scope (the credential needs chat:write; it has channels:read)');
    });

    it('refuses invalid inputs before calling Slack', async () => {
      const outcome = await run('slack.post_message', { channel: '#general', text: '', thread_ts: 'yesterday' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.contain('invalid inputs for block slack.post_message');
      expect(outcome.error).to.contain('/text');
      expect(outcome.error).to.contain('/thread_ts');
      expect(api.requests).to.have.length(0);
    });

    it('does not retry a rate-limited post, and says when to retry', async () => {
      api.failNext({ status: 429, headers: { 'retry-after': '3' }, body: { ok: false, error: 'ratelimited' } });
      const outcome = await run('slack.post_message', { channel: '#general', text: 'hi' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('Slack rate limited the request (429); retry after 3 s');
      expect(api.requests).to.have.length(1);
      expect(channel('general').messages).to.have.length(0);
    });
  });

  describe('slack.list_channels', () => {
    const publicOpen = ['general', 'random', 'deploys', 'design', 'support', 'engineering'];

    it('lists public channels that are not archived, by default', async () => {
      const outcome = await run('slack.list_channels', {});
      expect(outcome.error).to.equal(null);
      expect((outcome.outputs.channel as Array<{ name: string }>).map((c) => c.name)).to.deep.equal(publicOpen);
      expect(outcome.outputs.channels).to.deep.equal([outcome.outputs.channel]);
      expect(outcome.outputs.next_cursor).to.equal(undefined);
      expect(outcome.outputs.channel![0]).to.deep.equal({
        id: channel('general').id,
        name: 'general',
        is_private: false,
        is_archived: false,
        is_member: true,
        num_members: 4,
        topic: 'Company-wide announcements',
        purpose: 'Everyone is here',
        created: 1_600_000_001,
      });
      expect(api.requests[0]).to.deep.include({ method: 'GET', apiMethod: 'conversations.list', query: { limit: '100', types: 'public_channel', exclude_archived: 'true' } });
      expect(api.requests[0]!.headers.authorization).to.equal('Bearer test-token');
    });

    it('follows the cursor across short pages up to the limit, and hands back the cursor', async () => {
      api.maxPageSize = 2;
      const outcome = await run('slack.list_channels', { limit: 5, exclude_archived: false });
      expect(outcome.status).to.equal('completed');
      const names = (outcome.outputs.channel as Array<{ name: string }>).map((c) => c.name);
      expect(names).to.deep.equal(['general', 'random', 'deploys', 'design', 'old-project']);
      expect(api.requests.map((r) => r.query.limit)).to.deep.equal(['5', '3', '1']);
      const cursors = api.requests.map((r) => r.query.cursor);
      expect(cursors[0]).to.equal(undefined);
      expect(cursors[1]).to.be.a('string').and.not.equal('');
      expect(cursors[2]).to.be.a('string').and.not.equal(cursors[1]);
      expect(outcome.outputs.next_cursor).to.have.length(1);
      expect(outcome.outputs.next_cursor![0]).to.be.a('string').and.not.equal(cursors[2]);

      const rest = await run('slack.list_channels', { limit: 100, exclude_archived: false, cursor: outcome.outputs.next_cursor![0] });
      expect((rest.outputs.channel as Array<{ name: string }>).map((c) => c.name)).to.deep.equal(['support', 'engineering']);
      expect(rest.outputs.next_cursor).to.equal(undefined);
    });

    it('lists private channels with a token that may, and names the scope otherwise', async () => {
      const allowed = await run('slack.list_channels', { types: ['private_channel'] }, 'full-token');
      expect(allowed.outputs.channels).to.deep.equal([[{ ...(allowed.outputs.channel![0] as object) }]]);
      expect(allowed.outputs.channel![0]).to.deep.include({ name: 'leadership', is_private: true });
      const denied = await run('slack.list_channels', { types: ['public_channel', 'private_channel'] });
      expect(denied.status).to.equal('failed');
      expect(denied.error).to.equal('Slack could not list channels: missing_scope (the credential needs groups:read; it has chat:write,channels:read)');
    });

    it('fails on a cursor Slack does not know', async () => {
      const outcome = await run('slack.list_channels', { cursor: 'bm90LWEtY3Vyc29y' });
      expect(outcome.error).to.equal('Slack could not list channels: invalid_cursor (the cursor is invalid or has expired)');
    });

    it('completes when the platform retries past one 429, and fails once the retries are spent', async () => {
      api.failNext({ status: 429, headers: { 'retry-after': '0' }, body: { ok: false, error: 'ratelimited' } });
      const retried = await run('slack.list_channels', { limit: 2 });
      expect(retried.status).to.equal('completed');
      expect(retried.outputs.channels![0]).to.have.length(2);
      expect(api.requests).to.have.length(2);

      const limited = { status: 429, headers: { 'retry-after': '20' }, body: { ok: false, error: 'ratelimited' } };
      api.failNext(limited, limited, limited, limited);
      const failed = await run('slack.list_channels', { limit: 2 });
      expect(failed.status).to.equal('failed');
      expect(failed.error).to.equal('Slack rate limited the request (429); retry after 20 s');
    });
  });

  describe('slack.message_event', () => {
    const envelope = (event: Record<string, unknown>) => ({ token: 'x', team_id: 'T0TEAM0001', api_app_id: 'A0APP00001', type: 'event_callback', event_id: 'Ev0001', event_time: 1_700_000_000, event });

    it('outputs the message of an event_callback', async () => {
      const payload = envelope({ type: 'message', channel: 'C000000001', channel_type: 'channel', user: 'U0HUMAN001', text: 'deploy please', ts: '1700000000.000100' });
      const outcome = await runPluginBlock({ plugin: PLUGIN, blockId: 'slack.message_event', inputs: { payload }, baseUrl: api.url });
      expect(outcome.error).to.equal(null);
      expect(outcome.outputs.event).to.deep.equal([
        { type: 'message', channel: 'C000000001', channel_type: 'channel', user: 'U0HUMAN001', text: 'deploy please', ts: '1700000000.000100', team: 'T0TEAM0001', event_id: 'Ev0001' },
      ]);
      expect(api.requests).to.have.length(0);
    });

    it("completes without output on a bot's message (no reply loops), unless asked", async () => {
      const payload = envelope({ type: 'message', subtype: 'bot_message', bot_id: 'B0BOTID001', channel: 'C000000001', text: 'Deploy finished', ts: '1700000001.000200' });
      const ignored = await runPluginBlock({ plugin: PLUGIN, blockId: 'slack.message_event', inputs: { payload }, baseUrl: api.url });
      expect(ignored).to.deep.include({ status: 'completed', outputs: {}, error: null });
      const kept = await runPluginBlock({ plugin: PLUGIN, blockId: 'slack.message_event', inputs: { payload, include_bot_messages: true }, baseUrl: api.url });
      expect(kept.outputs.event).to.have.length(1);
    });
  });

  describe('webhook manager, as the loader registers it', () => {
    const SECRET = 'slack-signing-secret';

    async function loadManager() {
      const providers = new ProviderRegistry({ slack: api.url });
      const [status] = await loadPlugins([PLUGIN], new InMemoryBlockRegistry(), { providers, resolveFrom: ROOT });
      expect(status!.status, status!.error ?? '').to.equal('loaded');
      const provider = providers.get('slack')!;
      expect(provider.definition.webhooks).to.deep.equal({ event_types: ['message', 'app_mention'], mode: 'manual' });
      return provider.webhooks!;
    }

    function signed(body: unknown, timestamp = Math.floor(Date.now() / 1000)) {
      const raw = Buffer.from(JSON.stringify(body));
      const signature = 'v0=' + createHmac('sha256', SECRET).update(`v0:${timestamp}:`).update(raw).digest('hex');
      return { headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature }, rawBody: raw, body };
    }

    it('verifies Events API deliveries and reads their event', async () => {
      const manager = await loadManager();
      const body = { type: 'event_callback', event_id: 'Ev42', team_id: 'T1', event: { type: 'app_mention', channel: 'C1', user: 'U1', text: '<@U0BOTUSER1> hi', ts: '1.0' } };
      const delivery = signed(body);
      expect(manager.verify(delivery, SECRET)).to.equal(true);
      expect(manager.verify(delivery, 'wrong-secret')).to.equal(false);
      expect(manager.verify(signed(body, Math.floor(Date.now() / 1000) - 600), SECRET)).to.equal(false);
      expect(manager.events(delivery)).to.deep.equal([{ type: 'app_mention', payload: body, deliveryId: 'Ev42' }]);
      expect(manager.events(signed({ type: 'url_verification', token: 't', challenge: 'c' }))).to.deep.equal([]);
      expect(manager.register).to.equal(undefined);
    });
  });

  describe('manifest', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'plugins/slack/blockyard.plugin.json'), 'utf8')) as PluginManifest;

    it('declares the provider as documented', () => {
      const [slack] = manifest.providers!;
      expect(slack!.base_url).to.equal('https://slack.com/api');
      expect(slack!.auth).to.deep.include({ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' });
      expect(slack!.auth.find((a) => a.type === 'oauth2')).to.deep.include({ authorize_url: 'https://slack.com/oauth/v2/authorize', token_url: 'https://slack.com/api/oauth.v2.access', scope_separator: ',' });
      expect(slack!.default_credential).to.deep.include({ env: 'SLACK_BOT_TOKEN', kind: 'api_key' });
    });
  });
});
