import { expect } from 'chai';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { pollExecution, request } from './support/http.js';
import { createPostgresDatabase } from './support/postgres-database.js';

describe('server end to end on PostgreSQL (BLOCKYARD_DATABASE_URL)', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let server: ServerProcess;
  let env: Record<string, string>;
  let key: string;

  before(async () => {
    database = await createPostgresDatabase();
    env = { BLOCKYARD_DATA_DIR: makeDataDir(), BLOCKYARD_DATABASE_URL: database.url };
    key = await createKey(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN'], env);
    server = await startServerProcess(env, env.BLOCKYARD_DATA_DIR);
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
    removeDataDir(env.BLOCKYARD_DATA_DIR!);
  });

  it('logs that it uses PostgreSQL, never the URL itself', () => {
    const line = server.logs.find((l) => l.msg === 'blockyard listening');
    expect(String(line?.database)).to.match(/^postgres 127\.0\.0\.1:5432\/blockyard_e2e_/);
  });

  it('executes a block with a key made by the CLI and persists it', async () => {
    const res = await request(server.url, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'on postgres' } } });
    expect(res.status).to.equal(202);
    const done = await pollExecution(server.url, key, res.body.execution_id, ['completed', 'failed']);
    expect(done.status).to.equal('completed');
    expect(done.outputs).to.deep.equal({ text: ['on postgres'] });
  });

  it('cancels a running execution', async () => {
    const res = await request(server.url, 'POST', '/api/v1/blocks/example.sleep/execute', { key, body: { inputs: { ms: 60_000 } } });
    await pollExecution(server.url, key, res.body.execution_id, ['running']);
    const cancelled = await request(server.url, 'POST', `/api/v1/executions/${res.body.execution_id}/cancel`, { key });
    expect(cancelled.body.status).to.equal('cancelled');
  });

  it('keeps executions across a restart', async () => {
    const res = await request(server.url, 'POST', '/api/v1/blocks/example.echo/execute?wait=5', { key, body: { inputs: { text: 'kept' } } });
    await server.stop();
    server = await startServerProcess(env, env.BLOCKYARD_DATA_DIR);
    const again = await request(server.url, 'GET', `/api/v1/executions/${res.body.execution_id}`, { key });
    expect(again.body).to.include({ status: 'completed' });
    expect(again.body.outputs).to.deep.equal({ text: ['kept'] });
  });
});
