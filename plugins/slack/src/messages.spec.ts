import { expect } from 'chai';
import { messageEvent, postMessage } from './messages.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const posted = { ok: true, channel: 'C123ABC456', ts: '1503435956.000247', message: { type: 'message', text: 'hi', ts: '1503435956.000247' } };

describe('slack messages', () => {
  describe('slack.post_message', () => {
    it('POSTs chat.postMessage as UTF-8 JSON and yields the channel and ts', async () => {
      const mock = fetchMock({ status: 200, data: posted });
      const result = await run(postMessage, { channel: 'C123ABC456', text: 'hi' }, contextFixture(mock.fetch));
      expect(result.error).to.equal(null);
      expect(mock.calls).to.have.length(1);
      expect(mock.calls[0]!.method).to.equal('POST');
      expect(mock.calls[0]!.url).to.equal('/chat.postMessage');
      expect(mock.calls[0]!.request.json).to.deep.equal({ channel: 'C123ABC456', text: 'hi' });
      expect(mock.calls[0]!.request.headers).to.deep.equal({ 'content-type': 'application/json; charset=utf-8' });
      expect(result.outputs).to.deep.equal([['message', { channel: 'C123ABC456', ts: '1503435956.000247' }]]);
    });

    it('replies in a thread with thread_ts', async () => {
      const mock = fetchMock({ status: 200, data: { ...posted, ts: '1503435999.000300' } });
      const result = await run(postMessage, { channel: 'C123ABC456', text: 'reply', thread_ts: '1503435956.000247' }, contextFixture(mock.fetch));
      expect(mock.calls[0]!.request.json).to.deep.equal({ channel: 'C123ABC456', text: 'reply', thread_ts: '1503435956.000247' });
      expect(byName(result.outputs)).to.deep.equal({ message: [{ channel: 'C123ABC456', ts: '1503435999.000300', thread_ts: '1503435956.000247' }] });
    });

    it('turns ok:false (HTTP 200) into a clear failure', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ok: false, error: 'channel_not_found' }, 'Slack could not post to channel C1: channel_not_found (the channel does not exist, or the bot cannot see it)'],
        [{ ok: false, error: 'not_in_channel' }, 'Slack could not post to channel C1: not_in_channel (invite the bot to the channel first)'],
        [{ ok: false, error: 'is_archived' }, 'Slack could not post to channel C1: is_archived (the channel is archived)'],
        [{ ok: false, error: 'invalid_auth' }, 'Slack rejected the credential: invalid_auth'],
        [{ ok: false, error: 'token_revoked' }, 'Slack rejected the credential: token_revoked'],
        [{ ok: false, error: 'missing_scope', needed: 'chat:write', provided: 'channels:read' }, 'Slack could not post to channel C1: missing_scope (the credential needs chat:write; it has channels:read)'],
        [
          { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: channel'] } },
          'Slack could not post to channel C1: invalid_arguments (Slack did not accept the arguments; [ERROR] missing required field: channel)',
        ],
        [{ ok: false, error: 'some_new_error' }, 'Slack could not post to channel C1: some_new_error'],
      ];
      for (const [data, message] of cases) {
        const mock = fetchMock({ status: 200, data });
        const result = await run(postMessage, { channel: 'C1', text: 'hi' }, contextFixture(mock.fetch));
        expect(result.error, String(data.error)).to.equal(message);
        expect(result.outputs).to.deep.equal([]);
      }
    });

    it('says how long to wait on 429, and never shows the credential', async () => {
      const mock = fetchMock({ status: 429, headers: { 'Retry-After': '30' }, data: { ok: false, error: 'ratelimited' } });
      const result = await run(postMessage, { channel: 'C1', text: 'hi' }, contextFixture(mock.fetch, { credentials: { kind: 'api_key', api_key: 'xoxb-very-secret' } }));
      expect(result.error).to.equal('Slack rate limited the request (429); retry after 30 s');
      expect(result.error).not.to.contain('xoxb-very-secret');
    });

    it('reports an HTTP failure without a Slack body', async () => {
      const mock = fetchMock({ status: 503, data: 'upstream connect error' });
      const result = await run(postMessage, { channel: 'C1', text: 'hi' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('Slack answered 503 without a result when trying to post to channel C1: upstream connect error');
    });

    it('fails when Slack says ok without channel and ts', async () => {
      const mock = fetchMock({ status: 200, data: { ok: true } });
      const result = await run(postMessage, { channel: 'C1', text: 'hi' }, contextFixture(mock.fetch));
      expect(result.error).to.equal('Slack posted the message but did not say where (no channel or ts in its answer)');
    });
  });

  describe('slack.message_event', () => {
    const envelope = {
      type: 'event_callback',
      team_id: 'T1',
      event_id: 'Ev1',
      event: { type: 'message', channel: 'C1', channel_type: 'channel', user: 'U1', text: 'hello', ts: '1700000000.000100', thread_ts: '1700000000.000001' },
    };

    it('yields the message of an event_callback envelope', async () => {
      const result = await run(messageEvent, { payload: envelope, include_bot_messages: false }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(result.outputs).to.deep.equal([
        ['event', { type: 'message', channel: 'C1', channel_type: 'channel', user: 'U1', text: 'hello', ts: '1700000000.000100', thread_ts: '1700000000.000001', team: 'T1', event_id: 'Ev1' }],
      ]);
    });

    it('takes a bare event too', async () => {
      const result = await run(messageEvent, { payload: { type: 'app_mention', channel: 'C1', user: 'U1', text: '<@U0> hi', ts: '1.2' }, include_bot_messages: false }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(byName(result.outputs)).to.deep.equal({ event: [{ type: 'app_mention', channel: 'C1', user: 'U1', text: '<@U0> hi', ts: '1.2' }] });
    });

    it('reads the new text of a message_changed event', async () => {
      const payload = { type: 'event_callback', event: { type: 'message', subtype: 'message_changed', channel: 'C1', ts: '2.0', message: { user: 'U1', text: 'edited' } } };
      const result = await run(messageEvent, { payload, include_bot_messages: false }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(byName(result.outputs).event).to.deep.equal([{ type: 'message', subtype: 'message_changed', channel: 'C1', user: 'U1', text: 'edited', ts: '2.0' }]);
    });

    it("ignores bots' messages unless asked", async () => {
      const payload = { ...envelope, event: { type: 'message', subtype: 'bot_message', bot_id: 'B1', channel: 'C1', text: 'beep', ts: '3.0' } };
      const ignored = await run(messageEvent, { payload, include_bot_messages: false }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(ignored).to.deep.equal({ outputs: [], error: null });
      const kept = await run(messageEvent, { payload, include_bot_messages: true }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect((byName(kept.outputs).event![0] as { bot_id: string }).bot_id).to.equal('B1');
    });

    it('fails on a payload that is not a message event', async () => {
      const result = await run(messageEvent, { payload: { type: 'event_callback', event: { type: 'reaction_added' } }, include_bot_messages: false }, contextFixture(fetchMock().fetch, { credentials: null }));
      expect(result.error).to.equal('the payload is not a Slack message event: it needs an event of type message or app_mention');
    });
  });
});
