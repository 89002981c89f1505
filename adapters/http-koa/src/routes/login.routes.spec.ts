import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ContractValidators } from '@blockyard/contracts';
import { PluginCatalog, silentLogger, type ApiKeyService, type BlockCatalog, type ExecutionService, type SessionService } from '@blockyard/core';
import { createHttpApp } from '../http-app.js';
import { safeNextPath } from '../middleware/session-auth.js';

const sessionsMock = {
  login: async () => ({
    sessionId: 'session-id-from-mock',
    session: { idHash: 'h', userId: 'u1', csrfToken: 'c', createdAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000), lastSeenAt: new Date() },
    user: { id: 'u1', email: 'a@b.c', name: 'A', createdAt: new Date() },
  }),
  logout: async () => {},
  resolve: async () => null,
} as unknown as SessionService;

async function serve(trustProxy: boolean) {
  const app = createHttpApp(
    {
      catalog: {} as BlockCatalog,
      plugins: new PluginCatalog(),
      executions: {} as ExecutionService,
      apiKeys: {} as ApiKeyService,
      credentials: null,
      validators: new ContractValidators(),
      logger: silentLogger,
      sessions: sessionsMock,
    },
    { trustProxy },
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function loginOver(base: string, headers: Record<string, string> = {}) {
  const page = await fetch(`${base}/login`, { headers });
  const html = await page.text();
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
  const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'a@b.c', password: 'pw-pw-pw-pw', csrf_token: csrf, next: '/somewhere?x=1' }).toString(),
  });
}

describe('login routes', () => {
  it('sets a Secure session cookie over https as a trusted proxy reports it', async () => {
    const { base, close } = await serve(true);
    try {
      const res = await loginOver(base, { 'x-forwarded-proto': 'https' });
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal('/somewhere?x=1');
      const session = res.headers.getSetCookie().find((c) => c.startsWith('blockyard_session='))!;
      expect(session).to.match(/; secure/i).and.to.match(/; httponly/i).and.to.match(/; samesite=lax/i);
    } finally {
      await close();
    }
  });

  it('ignores X-Forwarded-Proto unless the proxy is trusted', async () => {
    const { base, close } = await serve(false);
    try {
      const res = await loginOver(base, { 'x-forwarded-proto': 'https' });
      expect(res.status).to.equal(302);
      const session = res.headers.getSetCookie().find((c) => c.startsWith('blockyard_session='))!;
      expect(session).not.to.match(/; secure/i);
    } finally {
      await close();
    }
  });

  it('reads /login bodies as forms only: a JSON body carrying the right token is refused', async () => {
    const { base, close } = await serve(false);
    try {
      const page = await fetch(`${base}/login`);
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(await page.text())![1]!;
      const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
      const res = await fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'a@b.c', password: 'pw-pw-pw-pw', csrf_token: csrf }),
      });
      expect(res.status).to.equal(403);
    } finally {
      await close();
    }
  });
});

describe('sessionAuth', () => {
  it('redirects a GET without a session to /login with next, and a form post with 303', async () => {
    const { base, close } = await serve(false);
    try {
      const get = await fetch(`${base}/account?tab=2`, { redirect: 'manual' });
      expect(get.status).to.equal(302);
      expect(get.headers.get('location')).to.equal('/login?next=%2Faccount%3Ftab%3D2');
      const post = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf_token=x' });
      expect(post.status).to.equal(303);
      expect(post.headers.get('location')).to.equal('/login');
    } finally {
      await close();
    }
  });
});

describe('safeNextPath', () => {
  it('keeps same-site paths and drops everything else', () => {
    expect(safeNextPath('/connect/github?x=1#y')).to.equal('/connect/github?x=1#y');
    for (const bad of ['//evil.test', '/\\evil.test', 'https://evil.test/', 'javascript:alert(1)', '', undefined, ['/a'], '/a\nb', 'evil']) {
      expect(safeNextPath(bad), String(bad)).to.equal('/account');
    }
  });
});
