import { expect } from 'chai';
import { listChannels } from './channels.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

function channelFixture(n: number) {
  return { id: `C${n}`, name: `channel-${n}`, is_channel: true, is_private: false, is_archived: false, is_member: n % 2 === 0, num_members: n, created: 1600000000 + n, topic: { value: `topic ${n}`, creator: '', last_set: 0 }, purpose: { value: '', creator: '', last_set: 0 } };
}
function channelOutput(n: number) {
  return { id: `C${n}`, name: `channel-${n}`, is_private: false, is_archived: false, is_member: n % 2 === 0, num_members: n, topic: `topic ${n}`, purpose: '', created: 1600000000 + n };
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('slack channels', () => {
  describe('slack.list_channels', () => {
    it('follows next_cursor page by page, streaming each channel, until Slack has no more', async () => {
      const mock = fetchMock(
        { data: { ok: true, channels: range(0, 2).map(channelFixture), response_metadata: { next_cursor: 'page2' } } },
        { data: { ok: true, channels: range(2, 3).map(channelFixture), response_metadata: { next_cursor: '' } } },
      );
      const result = await run(listChannels, { limit: 100, types: ['public_channel', 'private_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(result.error).to.equal(null);
      expect(mock.calls.map((c) => [c.method, c.url, c.request.query])).to.deep.equal([
        ['GET', '/conversations.list', { limit: 100, types: 'public_channel,private_channel', exclude_archived: true, cursor: undefined }],
        ['GET', '/conversations.list', { limit: 98, types: 'public_channel,private_channel', exclude_archived: true, cursor: 'page2' }],
      ]);
      expect(result.outputs.map(([name]) => name)).to.deep.equal(['channel', 'channel', 'channel', 'channels']);
      expect(byName(result.outputs)).to.deep.equal({ channel: range(0, 3).map(channelOutput), channels: [range(0, 3).map(channelOutput)] });
    });

    it('stops at the limit and hands back the cursor to go on', async () => {
      const mock = fetchMock(
        { data: { ok: true, channels: range(0, 3).map(channelFixture), response_metadata: { next_cursor: 'c2' } } },
        { data: { ok: true, channels: range(3, 5).map(channelFixture), response_metadata: { next_cursor: 'c3' } } },
      );
      const result = await run(listChannels, { limit: 5, types: ['public_channel'], exclude_archived: false, cursor: 'c1' }, contextFixture(mock.fetch));
      expect(mock.calls.map((c) => c.request.query)).to.deep.equal([
        { limit: 5, types: 'public_channel', exclude_archived: false, cursor: 'c1' },
        { limit: 2, types: 'public_channel', exclude_archived: false, cursor: 'c2' },
      ]);
      expect(byName(result.outputs).channels).to.deep.equal([range(0, 5).map(channelOutput)]);
      expect(byName(result.outputs).next_cursor).to.deep.equal(['c3']);
    });

    it('asks for pages of at most 200', async () => {
      const mock = fetchMock({ data: { ok: true, channels: [], response_metadata: { next_cursor: '' } } });
      await run(listChannels, { limit: 1000, types: ['public_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(mock.calls[0]!.request.query!.limit).to.equal(200);
    });

    it('goes on through an empty page that still has a cursor', async () => {
      const mock = fetchMock(
        { data: { ok: true, channels: [], response_metadata: { next_cursor: 'more' } } },
        { data: { ok: true, channels: [channelFixture(1)], response_metadata: { next_cursor: '' } } },
      );
      const result = await run(listChannels, { limit: 10, types: ['public_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(byName(result.outputs).channels).to.deep.equal([[channelOutput(1)]]);
    });

    it('stops when Slack hands back a cursor it already gave', async () => {
      const mock = fetchMock(
        { data: { ok: true, channels: [channelFixture(1)], response_metadata: { next_cursor: 'loop' } } },
        { data: { ok: true, channels: [channelFixture(2)], response_metadata: { next_cursor: 'loop' } } },
      );
      const result = await run(listChannels, { limit: 10, types: ['public_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(mock.calls).to.have.length(2);
      expect(byName(result.outputs)).to.deep.equal({ channel: [channelOutput(1), channelOutput(2)], channels: [[channelOutput(1), channelOutput(2)]] });
    });

    it('fails with the error of a later page, after streaming the earlier ones', async () => {
      const mock = fetchMock(
        { data: { ok: true, channels: [channelFixture(1)], response_metadata: { next_cursor: 'stale' } } },
        { data: { ok: false, error: 'invalid_cursor' } },
      );
      const result = await run(listChannels, { limit: 10, types: ['public_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(result.error).to.equal('Slack could not list channels: invalid_cursor (the cursor is invalid or has expired)');
      expect(result.outputs).to.deep.equal([['channel', channelOutput(1)]]);
    });

    it('fails on a rejected credential and on a rate limit', async () => {
      const denied = await run(listChannels, { limit: 10, types: ['public_channel'], exclude_archived: true }, contextFixture(fetchMock({ data: { ok: false, error: 'not_authed' } }).fetch));
      expect(denied.error).to.equal('Slack rejected the credential: not_authed');
      const limited = await run(listChannels, { limit: 10, types: ['public_channel'], exclude_archived: true }, contextFixture(fetchMock({ status: 429, headers: { 'retry-after': '12' }, data: '' }).fetch));
      expect(limited.error).to.equal('Slack rate limited the request (429); retry after 12 s');
    });

    it('names the scope a private-channel listing lacks', async () => {
      const mock = fetchMock({ data: { ok: false, error: 'missing_scope', needed: 'groups:read', provided: 'channels:read,chat:write' } });
      const result = await run(listChannels, { limit: 10, types: ['private_channel'], exclude_archived: true }, contextFixture(mock.fetch));
      expect(result.error).to.equal('Slack could not list channels: missing_scope (the credential needs groups:read; it has channels:read,chat:write)');
    });
  });
});
