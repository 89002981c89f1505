import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { placeholderIconPng, readPngSize } from './png.js';

/** A PNG signature and IHDR chunk claiming this size (enough for readPngSize). */
function pngHeaderFixture(width: number, height: number): Buffer {
  const head = Buffer.alloc(33);
  Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]).copy(head, 0);
  head.writeUInt32BE(13, 8);
  head.write('IHDR', 12, 'latin1');
  head.writeUInt32BE(width, 16);
  head.writeUInt32BE(height, 20);
  return head;
}

/** The chunks of a PNG: type and data, each CRC checked. */
function chunksOf(png: Buffer): Array<{ type: string; data: Buffer }> {
  const out: Array<{ type: string; data: Buffer }> = [];
  for (let o = 8; o < png.length; ) {
    const length = png.readUInt32BE(o);
    const type = png.toString('latin1', o + 4, o + 8);
    out.push({ type, data: png.subarray(o + 8, o + 8 + length) });
    o += 12 + length;
  }
  return out;
}

describe('readPngSize', () => {
  it('reads width and height from the IHDR chunk', () => {
    expect(readPngSize(pngHeaderFixture(512, 512))).to.deep.equal({ width: 512, height: 512 });
    expect(readPngSize(pngHeaderFixture(640, 320))).to.deep.equal({ width: 640, height: 320 });
  });

  it('reads the example plugin icon as 512×512', () => {
    expect(readPngSize(readFileSync(new URL('../../../../plugins/example/icon.png', import.meta.url)))).to.deep.equal({ width: 512, height: 512 });
  });

  it('answers null for what is not a PNG', () => {
    expect(readPngSize(Buffer.from('GIF89a not a png at all, really'))).to.equal(null);
    expect(readPngSize(pngHeaderFixture(512, 512).subarray(0, 20))).to.equal(null); // truncated
    const noIhdr = pngHeaderFixture(512, 512);
    noIhdr.write('IDAT', 12, 'latin1');
    expect(readPngSize(noIhdr)).to.equal(null);
    expect(readPngSize(new Uint8Array(0))).to.equal(null);
  });
});

describe('placeholderIconPng', () => {
  it('is a 512×512 RGBA PNG whose pixel data inflates to the right size', () => {
    const png = placeholderIconPng('#4f46e5');
    expect(readPngSize(png)).to.deep.equal({ width: 512, height: 512 });
    const chunks = chunksOf(png);
    expect(chunks.map((c) => c.type)).to.deep.equal(['IHDR', 'IDAT', 'IEND']);
    expect([chunks[0]!.data[8], chunks[0]!.data[9]]).to.deep.equal([8, 6]); // 8 bits, RGBA
    expect(inflateSync(chunks[1]!.data).length).to.equal((512 * 4 + 1) * 512);
  });

  it('draws the colour it is given, transparent in the rounded corners', () => {
    const raw = inflateSync(chunksOf(placeholderIconPng('#102030', 64))[1]!.data);
    const pixel = (x: number, y: number) => [...raw.subarray(y * (64 * 4 + 1) + 1 + x * 4, y * (64 * 4 + 1) + 1 + x * 4 + 4)];
    expect(pixel(0, 0)[3]).to.equal(0);
    expect(pixel(15, 2)).to.deep.equal([0x10, 0x20, 0x30, 255]);
    expect(pixel(32, 32)).to.deep.equal([0x10 + 90, 0x20 + 90, 0x30 + 90, 255]);
  });

  it('refuses a colour that is not #rrggbb', () => {
    expect(() => placeholderIconPng('blue')).to.throw('colour must be #rrggbb');
  });
});
