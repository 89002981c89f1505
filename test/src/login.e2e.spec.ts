import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { CLI_BIN, ROOT } from './support/paths.js';

const PASSWORD = 'e2e-Pässword-correct-horse-7319';

/** `blockyard users create`, the password piped on stdin as its first line. */
function createUserWithStdin(email: string, name: string, stdin: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'users', 'create', '--email', email, '--name', name], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`users create did not finish:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  cookies: string[];
}

/** A cookie-less browser stand-in: no redirects followed, every body kept for the secrecy scan. */
class Browser {
  readonly bodies: string[] = [];
  readonly jar = new Map<string, string>();
  constructor(private readonly base: string) {}

  async send(method: string, path: string, form?: Record<string, string>, options: { cookies?: boolean } = {}): Promise<PageResponse> {
    const headers: Record<string, string> = {};
    if (options.cookies !== false && this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(this.base + path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    const body = await res.text();
    this.bodies.push(body);
    const cookies = res.headers.getSetCookie();
    for (const cookie of cookies) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (!value || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, headers: res.headers, body, cookies };
  }

  /** GET /login and the CSRF token of its form. */
  async loginForm(next?: string): Promise<{ page: PageResponse; csrf: string }> {
    const page = await this.send('GET', `/login${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
    if (!csrf) throw new Error(`no CSRF field in /login:\n${page.body}`);
    return { page, csrf };
  }
}

describe('login end to end (real server, CLI-created user)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess;
  const secrets: string[] = [PASSWORD];
  const browsers: Browser[] = [];
  const browser = () => {
    const b = new Browser(server.url);
    browsers.push(b);
    return b;
  };

  before(async () => {
    dataDir = makeDataDir();
    env = { BLOCKYARD_DATA_DIR: dataDir };
    const created = await createUserWithStdin('Ann@Example.org', 'Ann Example', `${PASSWORD}\nsecond line ignored\n`, env);
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain('created user').and.to.contain('ann@example.org');
    expect(created.stdout + created.stderr).not.to.contain(PASSWORD);
    server = await startServerProcess({}, dataDir);
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  describe('blockyard users create', () => {
    it('generates and prints a password once when none is piped, and refuses a duplicate (1) or a bad email (2)', async () => {
      const generated = await createUserWithStdin('bob@example.org', 'Bob', '', env);
      expect(generated.code, generated.stderr).to.equal(0);
      const password = generated.stdout.trimEnd().split('\n').pop()!;
      expect(password).to.match(/^[A-Za-z0-9_-]{24}$/);
      secrets.push(password);
      const duplicate = await createUserWithStdin('ANN@example.org', 'Ann again', `${PASSWORD}\n`, env);
      expect(duplicate.code).to.equal(1);
      expect(duplicate.stderr).to.contain('exists');
      const bad = await createUserWithStdin('not-an-email', 'X', `${PASSWORD}\n`, env);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.contain('invalid email');
    });
  });

  describe('GET /login', () => {
    it('is a plain HTML form with a CSRF field, a same-site next, and a CSRF cookie', async () => {
      const b = browser();
      const { page } = await b.loginForm('/account?tab=1');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.headers.get('cache-control')).to.equal('no-store');
      expect(page.body).to.contain('<form method="post" action="/login">');
      expect(page.body).to.contain('type="password"');
      expect(page.body).to.contain('name="next" value="/account?tab=1"');
      expect(page.body).not.to.contain('<script');
      expect(page.cookies.join('\n')).to.match(/blockyard_login_csrf=[^;]+;.*httponly/i);
    });

    it('never keeps an off-site next', async () => {
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
        const { page } = await browser().loginForm(next);
        expect(page.body, next).to.contain('name="next" value="/account"');
      }
    });
  });

  describe('POST /login', () => {
    it('is 403 without the CSRF token or with a wrong one', async () => {
      const b = browser();
      const { csrf } = await b.loginForm();
      const missing = await b.send('POST', '/login', { email: 'ann@example.org', password: PASSWORD });
      expect(missing.status).to.equal(403);
      expect(missing.headers.get('content-type')).to.match(/^text\/html/);
      const noCookie = await b.send('POST', '/login', { email: 'ann@example.org', password: PASSWORD, csrf_token: csrf }, { cookies: false });
      expect(noCookie.status).to.equal(403);
      expect(noCookie.cookies.some((c) => c.startsWith('blockyard_session='))).to.equal(false);
    });

    it('answers a wrong password with the page again, 401, and a message that does not say whether the email exists', async () => {
      const b = browser();
      const { csrf } = await b.loginForm();
      const wrong = await b.send('POST', '/login', { email: 'ann@example.org', password: 'not-the-password-1', csrf_token: csrf });
      expect(wrong.status).to.equal(401);
      expect(wrong.body).to.contain('Wrong email or password.');
      expect(wrong.body).to.contain('name="csrf_token"');
      expect(wrong.body).not.to.contain('not-the-password-1');
      const { csrf: csrf2 } = await b.loginForm();
      const unknown = await b.send('POST', '/login', { email: 'nobody@example.org', password: 'not-the-password-1', csrf_token: csrf2 });
      expect(unknown.status).to.equal(401);
      expect(unknown.body.replace(/value="[^"]*"/g, '')).to.equal(wrong.body.replace(/value="[^"]*"/g, ''));
    });

    it('logs in: 302 to next with an httpOnly, SameSite=Lax, expiring session cookie; the session works; logout ends it', async () => {
      const b = browser();
      const { csrf } = await b.loginForm('/account?from=e2e');
      const ok = await b.send('POST', '/login', { email: ' ANN@example.org', password: PASSWORD, csrf_token: csrf, next: '/account?from=e2e' });
      expect(ok.status, ok.body).to.equal(302);
      expect(ok.headers.get('location')).to.equal('/account?from=e2e');
      const cookie = ok.cookies.find((c) => c.startsWith('blockyard_session='));
      expect(cookie, ok.cookies.join('\n')).to.be.a('string');
      expect(cookie).to.match(/; httponly/i);
      expect(cookie).to.match(/; samesite=lax/i);
      expect(cookie).to.match(/; (expires|max-age)=/i);
      expect(cookie).not.to.match(/; secure/i); // plain http here
      const expires = /expires=([^;]+)/i.exec(cookie!)?.[1];
      if (expires) expect(new Date(expires).getTime() - Date.now()).to.be.within(11.9 * 3_600_000, 12.1 * 3_600_000);
      const sessionId = b.jar.get('blockyard_session')!;
      secrets.push(sessionId);

      const account = await b.send('GET', '/account');
      expect(account.status).to.equal(200);
      expect(account.body).to.contain('Ann Example');
      const logoutCsrf = /name="csrf_token" value="([^"]+)"/.exec(account.body)![1]!;

      // A second login rotates: a new id, and the old one stops working.
      const { csrf: again } = await b.loginForm();
      const second = await b.send('POST', '/login', { email: 'ann@example.org', password: PASSWORD, csrf_token: again });
      expect(second.status).to.equal(302);
      const rotated = b.jar.get('blockyard_session')!;
      secrets.push(rotated);
      expect(rotated).not.to.equal(sessionId);
      const stale = await fetch(`${server.url}/account`, { headers: { cookie: `blockyard_session=${sessionId}` }, redirect: 'manual' });
      expect(stale.status).to.equal(302);

      const fresh = await b.send('GET', '/account');
      const freshCsrf = /name="csrf_token" value="([^"]+)"/.exec(fresh.body)![1]!;
      expect(freshCsrf).not.to.equal(logoutCsrf);
      const forged = await b.send('POST', '/logout', { csrf_token: 'forged' });
      expect(forged.status).to.equal(403);
      expect((await b.send('GET', '/account')).status).to.equal(200);

      const out = await b.send('POST', '/logout', { csrf_token: freshCsrf });
      expect(out.status).to.equal(302);
      expect(out.headers.get('location')).to.equal('/login');
      const after = await fetch(`${server.url}/account`, { headers: { cookie: `blockyard_session=${rotated}` }, redirect: 'manual' });
      expect(after.status).to.equal(302);
      expect(after.headers.get('location')).to.equal('/login?next=%2Faccount');
    });

    it('sends a page that needs a session to /login with next', async () => {
      const res = await browser().send('GET', '/account');
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal('/login?next=%2Faccount');
    });
  });

  describe('throttling (a fresh server: one IP for every request here)', () => {
    let second: ServerProcess;
    let secondDir: string;
    before(async () => {
      secondDir = makeDataDir();
      const created = await createUserWithStdin('carol@example.org', 'Carol', `${PASSWORD}\n`, { BLOCKYARD_DATA_DIR: secondDir });
      expect(created.code, created.stderr).to.equal(0);
      second = await startServerProcess({}, secondDir);
    });
    after(async () => {
      const output = second?.output() ?? '';
      await second?.stop();
      removeDataDir(secondDir);
      for (const secret of secrets) expect(output).not.to.contain(secret);
    });

    it('answers the 6th wrong try with 429 and Retry-After, also for the right password then', async () => {
      const b = new Browser(second.url);
      browsers.push(b);
      const statuses: number[] = [];
      let last: PageResponse | undefined;
      for (let i = 0; i < 6; i++) {
        const { csrf } = await b.loginForm();
        last = await b.send('POST', '/login', { email: 'carol@example.org', password: `wrong-password-${i}`, csrf_token: csrf });
        statuses.push(last.status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
      expect(Number(last!.headers.get('retry-after'))).to.be.within(1, 15 * 60);
      expect(last!.body).to.contain('Too many failed sign-ins');
      const { csrf } = await b.loginForm();
      const right = await b.send('POST', '/login', { email: 'carol@example.org', password: PASSWORD, csrf_token: csrf });
      expect(right.status).to.equal(429);
      expect(right.cookies.some((c) => c.startsWith('blockyard_session='))).to.equal(false);
    });
  });

  describe('secrecy', () => {
    it('never puts a password or a session id in a response body or a log line', () => {
      const bodies = browsers.flatMap((b) => b.bodies).join('\n');
      const logs = server.output();
      expect(secrets.length).to.be.greaterThan(2);
      for (const secret of secrets) {
        expect(bodies, 'a response body').not.to.contain(secret);
        expect(logs, 'the server log').not.to.contain(secret);
      }
    });
  });
});
