import { expect } from 'chai';
import { CLIENT_WEBHOOK_URL_MAX_LENGTH, clientWebhookUrlProblem } from './client-webhook-url.js';

const DOMAINS = ['hooks.example.com', '*.apps.example.com', '127.0.0.1', 'localhost', '[::1]'];

describe('clientWebhookUrlProblem', () => {
  const cases: Array<[unknown, string | null]> = [
    ['https://hooks.example.com/in', null],
    ['https://HOOKS.example.com./in?x=1', null],
    ['https://a.apps.example.com/in', null],
    ['https://a.b.apps.example.com:8443/in', null],
    ['http://127.0.0.1:4000/in', null],
    ['http://localhost/in', null],
    ['http://[::1]:4000/in', null],
    [undefined, 'must be a non-empty string'],
    [42, 'must be a non-empty string'],
    ['', 'must be a non-empty string'],
    ['https://hooks.example.com/' + 'a'.repeat(CLIENT_WEBHOOK_URL_MAX_LENGTH), `must be at most ${CLIENT_WEBHOOK_URL_MAX_LENGTH} characters`],
    ['https://hooks.example.com/a b', 'must not contain whitespace or control characters'],
    ['https://hooks.example.com/\u0007', 'must not contain whitespace or control characters'],
    ['https://hooks.example.com/é', 'must be ASCII (percent-encode other characters)'],
    ['/relative/path', 'must be an absolute URL'],
    ['https://', 'must be an absolute URL'],
    ['https://user:pw@hooks.example.com/in', 'must not contain user info'],
    ['https://hooks.example.com/in#frag', 'must not have a fragment'],
    ['http://hooks.example.com/in', 'must use https (http only for localhost or 127.0.0.1)'],
    ['ftp://hooks.example.com/in', 'must use https (http only for localhost or 127.0.0.1)'],
    ['https://apps.example.com/in', "its host apps.example.com is not in the client's webhook_domains"],
    ['https://evil.com/in', "its host evil.com is not in the client's webhook_domains"],
    ['https://hooks.example.com.evil.com/in', "its host hooks.example.com.evil.com is not in the client's webhook_domains"],
  ];

  it('answers each URL the same the first time and every time after (its parse remembered)', () => {
    for (let round = 0; round < 3; round++) {
      for (const [url, problem] of cases) expect(clientWebhookUrlProblem(url, DOMAINS), `${String(url).slice(0, 60)} (round ${round})`).to.equal(problem);
    }
  });

  it("checks the client's domains on every call: a remembered URL is refused once its host left them, and taken again once it is back", () => {
    const url = 'https://late.apps.example.com/hook';
    expect(clientWebhookUrlProblem(url, DOMAINS)).to.equal(null);
    expect(clientWebhookUrlProblem(url, ['hooks.example.com'])).to.equal("its host late.apps.example.com is not in the client's webhook_domains");
    expect(clientWebhookUrlProblem(url, [])).to.equal('the client has no webhook_domains registered');
    expect(clientWebhookUrlProblem(url, ['late.apps.example.com'])).to.equal(null);
    expect(clientWebhookUrlProblem(url, DOMAINS)).to.equal(null);
  });

  it('answers a URL refused for its shape the same whatever the domains, even none', () => {
    for (const domains of [DOMAINS, [], ['evil.com']]) {
      expect(clientWebhookUrlProblem('http://hooks.example.com/in', domains)).to.equal('must use https (http only for localhost or 127.0.0.1)');
      expect(clientWebhookUrlProblem('https://user@hooks.example.com/in', domains)).to.equal('must not contain user info');
    }
  });

  it('stays right past the number of URLs it remembers', () => {
    for (let i = 0; i < 1_500; i++) {
      expect(clientWebhookUrlProblem(`https://hooks.example.com/in/${i}`, DOMAINS)).to.equal(null);
      expect(clientWebhookUrlProblem(`https://other${i}.example.com/in`, DOMAINS)).to.equal(`its host other${i}.example.com is not in the client's webhook_domains`);
    }
    for (const [url, problem] of cases) expect(clientWebhookUrlProblem(url, DOMAINS)).to.equal(problem);
  });
});
