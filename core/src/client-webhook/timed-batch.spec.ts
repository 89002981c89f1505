import { expect } from 'chai';
import { TimedBatch } from './timed-batch.js';

describe('TimedBatch', () => {
  it('hands over a batch at once when max items are waiting', () => {
    const written: number[][] = [];
    const batch = new TimedBatch<number>({ delayMs: 60_000, max: 3, write: (items) => written.push(items) });
    for (const n of [1, 2, 3, 4]) batch.add(n);
    expect(written).to.deep.equal([[1, 2, 3]]);
    batch.flush();
    expect(written).to.deep.equal([[1, 2, 3], [4]]);
  });

  it('counts items as sizeOf says', () => {
    const written: string[][][] = [];
    const batch = new TimedBatch<string[]>({ delayMs: 60_000, max: 4, sizeOf: (rows) => rows.length, write: (items) => written.push(items) });
    batch.add(['a', 'b']);
    expect(written).to.deep.equal([]);
    batch.add(['c', 'd']);
    expect(written).to.deep.equal([[['a', 'b'], ['c', 'd']]]);
  });

  it('hands over a smaller batch by itself delayMs after its first item, and nothing when empty', async () => {
    const written: number[][] = [];
    const batch = new TimedBatch<number>({ delayMs: 20, max: 100, write: (items) => written.push(items) });
    batch.flush();
    batch.add(1);
    batch.add(2);
    expect(written).to.deep.equal([]);
    const deadline = Date.now() + 5_000;
    while (written.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(written).to.deep.equal([[1, 2]]);
    batch.flush();
    expect(written).to.have.length(1);
  });
});
