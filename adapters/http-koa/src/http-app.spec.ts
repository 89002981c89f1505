import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ContractValidators } from '@blockyard/contracts';
import { ConflictError, PluginCatalog, RateLimitedError, UnauthorizedError, type ApiKeyService, type BlockCatalog, type ExecutionService, type Logger, type Principal } from '@blockyard/core';
import { createHttpApp } from './http-app.js';

interface LogEntry {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

function loggerFixture(entries: LogEntry[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void entries.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

const principal: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN']), via: 'spec' };
const apiKeysMock = { authenticate: async (secret?: string) => (secret === 'good' ? principal : Promise.reject(new UnauthorizedError('invalid API key'))) } as unknown as ApiKeyService;

async function serve(catalog: Partial<BlockCatalog>, executions: Partial<ExecutionService> = {}, logs: LogEntry[] = []) {
  const app = createHttpApp(
    { catalog: catalog as BlockCatalog, plugins: new PluginCatalog(), executions: executions as ExecutionService, apiKeys: apiKeysMock, credentials: null, validators: new ContractValidators(), logger: loggerFixture(logs) },
    { bodyLimitBytes: 1000 },
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('createHttpApp', () => {
  describe('error mapping', () => {
    it('answers 500 with the request id and no stack for an unexpected error, logging the stack', async () => {
      const logs: LogEntry[] = [];
      const { base, close } = await serve({ listBlocks: () => { throw new Error('db exploded at /secret/path'); } }, {}, logs);
      try {
        const res = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'good', 'x-request-id': 'req-1' } });
        expect(res.status).to.equal(500);
        expect(await res.json()).to.deep.equal({ detail: 'internal error (request id req-1)' });
        const logged = logs.find((l) => l.message === 'request failed');
        expect(String(logged?.fields?.error)).to.contain('db exploded').and.to.contain(' at ');
      } finally {
        await close();
      }
    });

    it('maps conflict to 409 and rate_limited to 429 with Retry-After', async () => {
      const { base, close } = await serve(
        { listBlocks: () => { throw new RateLimitedError('slow down', 7); } },
        { cancelExecution: async () => { throw new ConflictError('execution e1 is already completed'); } },
      );
      try {
        const limited = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'good' } });
        expect(limited.status).to.equal(429);
        expect(limited.headers.get('retry-after')).to.equal('7');
        const conflict = await fetch(`${base}/api/v1/executions/e1/cancel`, { method: 'POST', headers: { 'x-api-key': 'good' } });
        expect(conflict.status).to.equal(409);
        expect(await conflict.json()).to.deep.equal({ detail: 'execution e1 is already completed' });
      } finally {
        await close();
      }
    });

    it('answers 401 with WWW-Authenticate for a bad key', async () => {
      const { base, close } = await serve({ listBlocks: () => [] });
      try {
        const res = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'bad' } });
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.contain('X-API-Key');
      } finally {
        await close();
      }
    });
  });

  describe('response contracts', () => {
    it('refuses to send a body that breaks its contract schema (500, logged)', async () => {
      const logs: LogEntry[] = [];
      const { base, close } = await serve({ listBlocks: () => [{ id: 'no dots' }] as never }, {}, logs);
      try {
        const res = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'good' } });
        expect(res.status).to.equal(500);
        expect(logs.some((l) => l.message === 'unexpected domain error' && String(l.fields?.error).includes('block-list.schema.json'))).to.equal(true);
      } finally {
        await close();
      }
    });
  });

  describe('access log', () => {
    it('logs method, path, status and time, never the query string or headers', async () => {
      const logs: LogEntry[] = [];
      const { base, close } = await serve({ listBlocks: () => [] }, {}, logs);
      try {
        await fetch(`${base}/api/v1/blocks?token=abc`, { headers: { 'x-api-key': 'good' } });
        const line = logs.find((l) => l.message === 'request');
        expect(line?.fields).to.include({ method: 'GET', path: '/api/v1/blocks', status: 200 });
        expect(JSON.stringify(logs)).not.to.contain('abc').and.not.to.contain('good');
      } finally {
        await close();
      }
    });
  });
});
