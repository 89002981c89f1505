import { expect } from 'chai';
import { copyValue } from './copy-value.js';

describe('copyValue', () => {
  it('copies nested objects, arrays and dates, sharing nothing', () => {
    const original = { a: [1, { b: 'x' }], d: new Date('2026-01-01T00:00:00Z'), n: null };
    const copy = copyValue(original);
    expect(copy).to.deep.equal(original);
    (copy.a[1] as { b: string }).b = 'changed';
    copy.d.setUTCFullYear(2000);
    expect(original).to.deep.equal({ a: [1, { b: 'x' }], d: new Date('2026-01-01T00:00:00Z'), n: null });
  });

  it('keeps an own "__proto__" key a key, never the prototype of the copy', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const copy = copyValue(parsed);
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect((copy as { polluted?: unknown }).polluted).to.equal(undefined);
    expect(Object.keys(copy)).to.deep.equal(['__proto__', 'ok']);
  });
});
