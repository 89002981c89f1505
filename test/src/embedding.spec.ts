// The README's embedding example, run as written: core + memory adapters, no HTTP.
import { expect } from 'chai';
import { Container } from 'inversify';
import { BlockRegistry, coreModule, ExecutionService, ExecutionWorker, UserService, type Block } from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';

const shout: Block<{ text: string }> = {
  definition: {
    id: 'my_app.shout',
    name: 'Shout',
    description: 'Upper-cases its text.',
    categories: ['text'],
    input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    output_schema: { type: 'object', properties: { text: { type: 'string' } } },
  },
  async *handler({ text }) {
    yield ['text', text.toUpperCase()];
  },
};

describe('embedding Blockyard in a Node program (memory adapters, no HTTP)', () => {
  it('registers a block, executes it through the queue and reads the finished execution', async () => {
    const container = new Container();
    container.load(coreModule(), memoryStorageModule(), memoryQueueModule());
    container.get<BlockRegistry>(BlockRegistry).register(shout as Block, 'my-app');
    const worker = container.get(ExecutionWorker);
    worker.start();

    const user = await container.get(UserService).ensureDefaultUser();
    const executions = container.get(ExecutionService);
    const queued = await executions.executeBlock(user.id, 'my_app.shout', { text: 'hello' });
    const done = await executions.waitForExecution(user.id, queued.id, 5_000);

    expect(queued.status).to.equal('queued');
    expect(done.status).to.equal('completed');
    expect(done.outputs).to.deep.equal({ text: ['HELLO'] });
    await worker.stop();
  });

  it('keeps each container separate: no global state between two embedded instances', async () => {
    const a = new Container();
    const b = new Container();
    a.load(coreModule(), memoryStorageModule(), memoryQueueModule());
    b.load(coreModule(), memoryStorageModule(), memoryQueueModule());
    a.get<BlockRegistry>(BlockRegistry).register(shout as Block, 'a');
    expect(b.get<BlockRegistry>(BlockRegistry).get('my_app.shout')).to.equal(undefined);
    const userA = await a.get(UserService).ensureDefaultUser();
    const execution = await a.get(ExecutionService).executeBlock(userA.id, 'my_app.shout', { text: 'x' });
    const userB = await b.get(UserService).ensureDefaultUser();
    let error: unknown;
    try {
      await b.get(ExecutionService).getExecution(userB.id, execution.id);
    } catch (e) {
      error = e;
    }
    expect((error as Error)?.message).to.equal(`execution ${execution.id} not found`);
  });
});
