import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractValidators } from '@blockyard/contracts';
import type { ResolvedCredential } from '@blockyard/core';
import { ROOT } from '../support/paths.js';
import { runPluginBlock } from '../support/plugin-harness.js';
import { startLinearApi, type LinearApiStandIn, type LinearTeam } from '../support/stand-ins/linear-api.js';

const PLUGIN = '@blockyard/plugin-linear';
const API_KEY = 'lin_api_standin0123456789';
const OAUTH_TOKEN = 'lin_oauth_standin0123456789';
const apiKey: ResolvedCredential = { kind: 'api_key', api_key: API_KEY };

describe('plugin @blockyard/plugin-linear, run by the real loader, engine and context.fetch against a Linear stand-in', () => {
  let linear: LinearApiStandIn;
  let team: LinearTeam;
  beforeEach(async () => {
    linear = await startLinearApi({ apiKey: API_KEY, oauthToken: OAUTH_TOKEN });
    team = linear.addTeam('ENG', 'Engineering');
  });
  afterEach(() => linear.close());

  const runBlock = (blockId: string, inputs: Record<string, unknown>, credential: ResolvedCredential = apiKey) => runPluginBlock({ plugin: PLUGIN, blockId, inputs, credential, baseUrl: linear.url });
  const graphqlBody = (i: number) => linear.received[i]!.body as { query: string; variables: Record<string, unknown> };

  it('has a manifest valid against plugin-manifest.schema.json', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'plugins/linear/blockyard.plugin.json'), 'utf8'));
    const result = new ContractValidators().validate('plugin-manifest.schema.json', manifest);
    expect(result.ok, JSON.stringify(!result.ok && result.issues)).to.equal(true);
  });

  describe('linear.create_issue', () => {
    it('POSTs the issueCreate mutation to /graphql with the raw API key, and yields the issue', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: team.id, title: 'Checkout fails', description: 'Steps ...', priority: 2 });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      const created = linear.issues[0]!;
      expect(outcome.outputs).to.deep.equal({ issue: [{ id: created.id, identifier: 'ENG-1', title: 'Checkout fails', url: 'https://linear.app/acme/issue/ENG-1/checkout-fails' }] });
      expect(created).to.deep.include({ description: 'Steps ...', priority: 2, priorityLabel: 'High' });
      expect(linear.received).to.have.length(1);
      const [request] = linear.received;
      expect(request).to.deep.include({ method: 'POST', path: '/graphql' });
      expect(request!.headers.authorization).to.equal(API_KEY);
      expect(request!.headers['content-type']).to.equal('application/json');
      expect(graphqlBody(0).query).to.match(/^mutation IssueCreate\(\$input: IssueCreateInput!\)/);
      expect(graphqlBody(0).variables).to.deep.equal({ input: { teamId: team.id, title: 'Checkout fails', description: 'Steps ...', priority: 2 } });
    });

    it('sends an OAuth2 access token as a Bearer token', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: team.id, title: 'Via OAuth' }, { kind: 'oauth2', access_token: OAUTH_TOKEN, scopes: ['write', 'issues:create'] });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(linear.received[0]!.headers.authorization).to.equal(`Bearer ${OAUTH_TOKEN}`);
    });

    it('fails with "credential rejected" for a key Linear does not know, without the key in the message', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: team.id, title: 'T' }, { kind: 'api_key', api_key: 'lin_api_wrong0123' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('Linear: credential rejected: You need to authenticate to access this operation.');
      expect(linear.issues).to.have.length(0);
    });

    it('fails with "not found" for a team that does not exist', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: '00000000-0000-4000-8000-000000000000', title: 'T' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Linear: not found: Could not find referenced Team.' });
    });

    it('fails with Linear’s validation message for input Linear refuses', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: 'ENG', title: 'T' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Linear: invalid request: teamId must be a UUID.' });
    });

    it('refuses inputs its schema refuses, before any request', async () => {
      const outcome = await runBlock('linear.create_issue', { teamId: team.id, title: '', priority: 9 });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.contain('invalid inputs for block linear.create_issue').and.to.contain('/title').and.to.contain('/priority');
      expect(linear.received).to.have.length(0);
    });

    it('fails with "rate limited; retry after N s" on 429, and never sends the mutation twice', async () => {
      linear.rateLimitNext(1, 7);
      const outcome = await runBlock('linear.create_issue', { teamId: team.id, title: 'T' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Linear: rate limited; retry after 7 s' });
      expect(linear.received).to.have.length(1);
      expect(linear.issues).to.have.length(0);
    });
  });

  describe('linear.list_issues', () => {
    it('lists a team’s first issues over Linear’s cursor pages, yielding each then all', async () => {
      const seeded = linear.seedIssues(team, 130);
      linear.seedIssues(linear.addTeam('OPS'), 3);
      const outcome = await runBlock('linear.list_issues', { teamId: team.id, first: 120 });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(linear.received.map((_, i) => graphqlBody(i).variables)).to.deep.equal([
        { teamId: team.id, first: 100, after: null },
        { teamId: team.id, first: 20, after: seeded[99]!.id },
      ]);
      expect(linear.received.every((r) => r.headers.authorization === API_KEY)).to.equal(true);
      const identifiers = seeded.slice(0, 120).map((i) => i.identifier);
      expect((outcome.outputs.issue as Array<{ identifier: string }>).map((i) => i.identifier)).to.deep.equal(identifiers);
      expect(outcome.outputs.issues).to.have.length(1);
      expect((outcome.outputs.issues![0] as Array<{ identifier: string }>).map((i) => i.identifier)).to.deep.equal(identifiers);
      expect(outcome.outputs.issue![0]).to.deep.equal(seeded[0]);
    });

    it('stops at the last page when the team has fewer issues than asked', async () => {
      linear.seedIssues(team, 3);
      const outcome = await runBlock('linear.list_issues', { teamId: team.id });
      expect(linear.received).to.have.length(1);
      expect(graphqlBody(0).variables).to.deep.equal({ teamId: team.id, first: 50, after: null });
      expect(outcome.outputs.issue).to.have.length(3);
    });

    it('with assignedToMe, lists only the team’s issues assigned to the key’s user', async () => {
      const seeded = linear.seedIssues(team, 6, (i) => i % 2 === 0);
      const outcome = await runBlock('linear.list_issues', { teamId: team.id, assignedToMe: true });
      expect(graphqlBody(0).variables.filter).to.deep.equal({ assignee: { isMe: { eq: true } } });
      expect((outcome.outputs.issue as Array<{ id: string }>).map((i) => i.id)).to.deep.equal([seeded[0]!.id, seeded[2]!.id, seeded[4]!.id]);
    });

    it('without teamId, lists the issues assigned to the key’s user across teams', async () => {
      const mine = [...linear.seedIssues(team, 2, () => true), ...linear.seedIssues(linear.addTeam('OPS'), 2, (i) => i === 1)];
      linear.seedIssues(team, 2);
      const outcome = await runBlock('linear.list_issues', { first: 10 });
      expect(graphqlBody(0).query).to.match(/viewer\s*\{\s*assignedIssues\(/);
      expect((outcome.outputs.issues![0] as Array<{ id: string }>).map((i) => i.id)).to.deep.equal(mine.filter((i) => i.assignee).map((i) => i.id));
    });

    it('is retried by the platform after a 429 (a read), and completes', async () => {
      linear.seedIssues(team, 2);
      linear.rateLimitNext(1, 1);
      const outcome = await runBlock('linear.list_issues', { teamId: team.id });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(linear.received).to.have.length(2);
      expect(outcome.outputs.issue).to.have.length(2);
    });

    it('fails with "not found" for an unknown team', async () => {
      const outcome = await runBlock('linear.list_issues', { teamId: '00000000-0000-4000-8000-000000000000' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Linear: not found: Could not find referenced Team.' });
    });

    it('fails with "credential rejected" for a wrong key', async () => {
      const outcome = await runBlock('linear.list_issues', {}, { kind: 'api_key', api_key: 'nope' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Linear: credential rejected: You need to authenticate to access this operation.' });
    });
  });
});
