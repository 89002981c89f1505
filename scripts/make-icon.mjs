#!/usr/bin/env node
// Writes a 512x512 PNG icon: a rounded square in one colour with a lighter inner square.
// Usage: node scripts/make-icon.mjs <out.png> <#rrggbb>
// A placeholder generator for plugin icons (validate requires a 512x512 PNG); no dependencies.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const [out, hex = '#4f46e5'] = process.argv.slice(2);
if (!out || !/^#[0-9a-f]{6}$/i.test(hex)) {
  console.error('usage: node scripts/make-icon.mjs <out.png> <#rrggbb>');
  process.exit(2);
}
const size = 512;
const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const raw = Buffer.alloc((size * 4 + 1) * size);
for (let y = 0; y < size; y++) {
  raw[y * (size * 4 + 1)] = 0;
  for (let x = 0; x < size; x++) {
    const o = y * (size * 4 + 1) + 1 + x * 4;
    const radius = 96;
    const dx = Math.max(radius - x, x - (size - 1 - radius), 0);
    const dy = Math.max(radius - y, y - (size - 1 - radius), 0);
    const inside = dx * dx + dy * dy <= radius * radius;
    const inner = x > 160 && x < 352 && y > 160 && y < 352;
    raw[o] = inner ? Math.min(255, r + 90) : r;
    raw[o + 1] = inner ? Math.min(255, g + 90) : g;
    raw[o + 2] = inner ? Math.min(255, b + 90) : b;
    raw[o + 3] = inside ? 255 : 0;
  }
}
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(size, 0);
ihdr.writeUInt32BE(size, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
writeFileSync(out, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]));
