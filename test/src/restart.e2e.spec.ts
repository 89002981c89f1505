import { expect } from 'chai';
import { makeDataDir, removeDataDir, startServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { pollExecution, request } from './support/http.js';

describe('server restart (SQLite data dir survives, the memory queue does not)', function () {
  this.timeout(60_000);

  it('completes an execution left queued by a crashed server, and restarts the one left running', async () => {
    const dataDir = makeDataDir();
    try {
      const env = { BLOCKYARD_DATA_DIR: dataDir };
      const key = await createKey(['EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN'], env);

      // One worker slot: the sleep holds it, so the echo stays queued.
      const first = await startServerProcess({ BLOCKYARD_WORKER_CONCURRENCY: '1' }, dataDir);
      const sleeping = await request(first.url, 'POST', '/api/v1/blocks/example.sleep/execute', { key, body: { inputs: { ms: 600_000 } } });
      await pollExecution(first.url, key, sleeping.body.execution_id, ['running']);
      const waiting = await request(first.url, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'survived' } } });
      await new Promise((r) => setTimeout(r, 200));
      expect((await request(first.url, 'GET', `/api/v1/executions/${waiting.body.execution_id}`, { key })).body.status).to.equal('queued');
      await first.kill(); // no shutdown: as in a crash

      const second = await startServerProcess({ BLOCKYARD_WORKER_CONCURRENCY: '4' }, dataDir);
      try {
        const done = await pollExecution(second.url, key, waiting.body.execution_id, ['completed', 'failed']);
        expect(done.status).to.equal('completed');
        expect(done.outputs).to.deep.equal({ text: ['survived'] });
        expect(second.logs.some((l) => l.msg === 're-enqueued executions left queued or running by the last run' && l.count === 2)).to.equal(true);

        // The sleep that was running is running again (a new attempt), not left hanging.
        const restarted = await pollExecution(second.url, key, sleeping.body.execution_id, ['running']);
        expect(restarted.status).to.equal('running');
        const cancelled = await request(second.url, 'POST', `/api/v1/executions/${sleeping.body.execution_id}/cancel`, { key });
        expect(cancelled.body.status).to.equal('cancelled');
      } finally {
        await second.stop();
      }
    } finally {
      removeDataDir(dataDir);
    }
  });

  it('shuts down cleanly on SIGTERM with exit code 0', async () => {
    const server = await startServerProcess();
    try {
      expect(await server.stop()).to.equal(0);
      expect(server.logs.some((l) => l.msg === 'blockyard stopped')).to.equal(true);
    } finally {
      removeDataDir(server.dataDir);
    }
  });

  it('lets a request in flight answer before it stops on SIGTERM', async () => {
    const server = await startServerProcess();
    try {
      const key = await createKey(['EXECUTE_BLOCK'], { BLOCKYARD_DATA_DIR: server.dataDir });
      const pending = request(server.url, 'POST', '/api/v1/blocks/example.sleep/execute?wait=10', { key, body: { inputs: { ms: 800 } } });
      await new Promise((r) => setTimeout(r, 200));
      const stopped = server.stop();
      const res = await pending;
      expect(res.status).to.equal(200);
      expect(res.body.status).to.equal('completed');
      expect(await stopped).to.equal(0);
      expect(server.logs.filter((l) => Number(l.level) >= 50)).to.deep.equal([]);
    } finally {
      removeDataDir(server.dataDir);
    }
  });
});
