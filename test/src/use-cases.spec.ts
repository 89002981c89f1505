// The execution use cases end to end in one process, on the memory adapters: the paths the
// HTTP tests cannot reach precisely (ownership, races, dead jobs, recovery).
import { expect } from 'chai';
import { Container } from 'inversify';
import {
  BlockRegistry,
  coreModule,
  DomainError,
  ExecutionQueue,
  ExecutionRepository,
  ExecutionRunner,
  ExecutionService,
  ExecutionWorker,
  UserService,
  type Block,
} from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { InMemoryExecutionQueue, memoryQueueModule } from '@blockyard/queue-memory';

const echo: Block = {
  definition: { id: 't.echo', name: 'Echo', description: '', categories: [], input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } }, output_schema: { type: 'object', properties: { text: { type: 'string' } } } },
  async *handler(inputs) {
    yield ['text', inputs.text];
  },
};
const hang: Block = {
  definition: { id: 't.hang', name: 'Hang', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object' } },
  handler: (_inputs, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
};

async function compose(queueOptions = {}) {
  const container = new Container();
  container.load(coreModule({ engine: { cancelGraceMs: 50 } }), memoryStorageModule(), memoryQueueModule(queueOptions));
  container.get<BlockRegistry>(BlockRegistry).registerAll([echo, hang], 'spec');
  const users = container.get(UserService);
  const alice = await users.createUser({ email: 'alice@example.com', name: 'Alice' });
  const bob = await users.createUser({ email: 'bob@example.com', name: 'Bob' });
  return { container, alice, bob, executions: container.get(ExecutionService), worker: container.get(ExecutionWorker) };
}

const kindOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? e.kind : 'not a domain error'));

describe('execution use cases (memory adapters)', () => {
  describe('executeBlock', () => {
    it('persists before it enqueues: the queued execution is readable at once', async () => {
      const { alice, executions, container } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'a' });
      expect((await container.get<ExecutionRepository>(ExecutionRepository).get(queued.id))?.status).to.equal('queued');
      expect((container.get<ExecutionQueue>(ExecutionQueue) as InMemoryExecutionQueue).size.ready).to.equal(1);
    });

    it('marks the execution failed, never left queued, when the queue refuses it', async () => {
      const { alice, executions, container } = await compose();
      const queue = container.get<ExecutionQueue>(ExecutionQueue);
      queue.enqueue = async () => {
        throw new Error('Redis is down');
      };
      expect(await kindOf(executions.executeBlock(alice.id, 't.echo', { text: 'a' }))).to.equal('unexpected');
      const repo = container.get<ExecutionRepository>(ExecutionRepository);
      expect(await repo.listByStatus(['queued'], 10)).to.deep.equal([]);
      const [failed] = await repo.listByStatus(['failed'], 10);
      expect(failed?.error).to.equal('could not be queued: Redis is down');
    });

    it('rejects invalid inputs as invalid_input and stores nothing', async () => {
      const { alice, executions, container } = await compose();
      expect(await kindOf(executions.executeBlock(alice.id, 't.echo', { text: 1 }))).to.equal('invalid_input');
      expect(await container.get<ExecutionRepository>(ExecutionRepository).listByStatus(['queued'], 10)).to.deep.equal([]);
    });
  });

  describe('getExecution', () => {
    it("answers not_found for another user's execution", async () => {
      const { alice, bob, executions } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'a' });
      expect(await kindOf(executions.getExecution(bob.id, queued.id))).to.equal('not_found');
      expect(await kindOf(executions.cancelExecution(bob.id, queued.id))).to.equal('not_found');
    });
  });

  describe('cancelExecution', () => {
    it('cancels a queued execution so that no worker ever runs it', async () => {
      const { alice, executions, worker } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'a' });
      const cancelled = await executions.cancelExecution(alice.id, queued.id);
      worker.start();
      await new Promise((r) => setTimeout(r, 100));
      const after = await executions.getExecution(alice.id, queued.id);
      expect(cancelled.status).to.equal('cancelled');
      expect(after.status).to.equal('cancelled');
      expect(after.startedAt).to.equal(null);
      await worker.stop();
    });

    it('aborts a running handler and keeps the execution cancelled', async () => {
      const { alice, executions, worker } = await compose();
      worker.start();
      const queued = await executions.executeBlock(alice.id, 't.hang', {});
      for (let i = 0; i < 50 && (await executions.getExecution(alice.id, queued.id)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
      await executions.cancelExecution(alice.id, queued.id);
      await new Promise((r) => setTimeout(r, 100));
      const after = await executions.getExecution(alice.id, queued.id);
      expect(after.status).to.equal('cancelled');
      expect(after.error).to.equal('cancelled by request');
      await worker.stop();
    });
  });

  describe('runExecution', () => {
    it('leaves a finished execution alone when its job is delivered again', async () => {
      const { alice, executions, container } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'once' });
      const runner = container.get(ExecutionRunner);
      await runner.runExecution(queued.id);
      const first = await executions.getExecution(alice.id, queued.id);
      await runner.runExecution(queued.id);
      const second = await executions.getExecution(alice.id, queued.id);
      expect(second).to.deep.equal(first);
      expect(second.attempts).to.equal(1);
    });

    it('fails an execution whose block is not loaded, naming it', async () => {
      const { alice, executions, container } = await compose();
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      const repo = container.get<ExecutionRepository>(ExecutionRepository);
      await repo.update({ ...queued, blockId: 'gone.block' }, 'queued');
      await container.get(ExecutionRunner).runExecution(queued.id);
      const after = await repo.get(queued.id);
      expect(after?.status).to.equal('failed');
      expect(after?.error).to.equal('block gone.block is not loaded on this worker');
    });
  });

  describe('dead jobs', () => {
    it('marks the execution failed when its job runs out of attempts', async () => {
      const { alice, executions, container, worker } = await compose({ maxAttempts: 2, backoffMs: () => 10 });
      const repo = container.get<ExecutionRepository>(ExecutionRepository);
      const queued = await executions.executeBlock(alice.id, 't.echo', { text: 'x' });
      // Storage that fails the writes of both run attempts (an infrastructure failure: the
      // job is retried, then dead), and is back when the dead job is marked failed.
      const get = repo.get.bind(repo);
      const update = repo.update.bind(repo);
      let failedWrites = 0;
      repo.update = async (execution, expected) => {
        if (execution.id === queued.id && failedWrites < 2) {
          failedWrites++;
          throw new Error('database unavailable');
        }
        return update(execution, expected);
      };
      worker.start();
      const deadline = Date.now() + 3000;
      let after = await get(queued.id);
      while (Date.now() < deadline && after?.status !== 'failed') {
        await new Promise((r) => setTimeout(r, 20));
        after = await get(queued.id);
      }
      await worker.stop();
      expect(after?.status).to.equal('failed');
      expect(after?.error).to.equal('gave up after 2 attempts: database unavailable');
    });
  });

  describe('recoverExecutions', () => {
    it('re-enqueues every queued and running execution', async () => {
      const { alice, executions, container } = await compose();
      const a = await executions.executeBlock(alice.id, 't.echo', { text: 'a' });
      const b = await executions.executeBlock(alice.id, 't.echo', { text: 'b' });
      const repo = container.get<ExecutionRepository>(ExecutionRepository);
      await repo.update({ ...b, status: 'running', attempts: 1, startedAt: new Date() }, 'queued');
      expect(await container.get(ExecutionRunner).recoverExecutions()).to.equal(2);
      expect((container.get<ExecutionQueue>(ExecutionQueue) as InMemoryExecutionQueue).size.ready).to.equal(4);
      void a;
    });
  });
});
