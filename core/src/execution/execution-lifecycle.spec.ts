import { expect } from 'chai';
import { silentLogger, type Logger } from '../system/logger.port.js';
import { newExecution, type Execution } from './execution.js';
import { ExecutionLifecycle, type ExecutionLifecycleListener } from './execution-lifecycle.js';

const execution = (id: string): Execution => newExecution({ id, userId: 'u', blockId: 'b', inputs: {}, now: new Date(0) });

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('ExecutionLifecycle', () => {
  it('tells listeners of a start in the background: the execution goes on before they are done', async () => {
    const slow = gate();
    const heard: string[] = [];
    const lifecycle = new ExecutionLifecycle([{ started: async (e) => void (await slow.promise, heard.push(`started ${e.id}`)) }], silentLogger);
    await lifecycle.started(execution('e1'));
    expect(heard).to.deep.equal([]);
    slow.open();
    await lifecycle.settled();
    expect(heard).to.deep.equal(['started e1']);
  });

  it("tells an execution's finish only after its start reached every listener", async () => {
    const slow = gate();
    const heard: string[] = [];
    const listener: ExecutionLifecycleListener = {
      started: async (e) => void (await slow.promise, heard.push(`started ${e.id}`)),
      finished: async (e) => void heard.push(`finished ${e.id}`),
    };
    const lifecycle = new ExecutionLifecycle([listener], silentLogger);
    await lifecycle.started(execution('e1'));
    const finishing = lifecycle.finished(execution('e1'));
    await lifecycle.finished(execution('other')); // another execution's finish does not wait
    expect(heard).to.deep.equal(['finished other']);
    slow.open();
    await finishing;
    expect(heard).to.deep.equal(['finished other', 'started e1', 'finished e1']);
  });

  it("logs a listener's failure and goes on to the next listener", async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (message: string) => void errors.push(message) };
    const heard: string[] = [];
    const lifecycle = new ExecutionLifecycle(
      [
        { started: async () => Promise.reject(new Error('boom')), finished: async () => Promise.reject(new Error('boom')) },
        { started: async () => void heard.push('started'), finished: async () => void heard.push('finished') },
      ],
      logger,
    );
    await lifecycle.started(execution('e1'));
    await lifecycle.finished(execution('e1'));
    expect(heard).to.deep.equal(['started', 'finished']);
    expect(errors).to.deep.equal(['execution listener failed on start', 'execution listener failed on finish']);
  });
});
