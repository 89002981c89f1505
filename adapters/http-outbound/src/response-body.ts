import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { OutboundRequestError } from '@blockyard/core';

/**
 * Reads a response body into one buffer, decoding gzip, deflate or br when the response says
 * it is encoded, and stops (destroying the stream) as soon as the decoded size passes
 * `maxBytes`, so an endless or decompression-bomb body costs at most `maxBytes` of memory.
 * `keep` false reads it all the same (size limit included) but keeps none of it: the answer is
 * an empty buffer.
 */
export function readBody(body: Readable, contentEncoding: string | undefined, maxBytes: number, describe: () => string, keep = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const decoder = decoderFor(contentEncoding);
    const source: Readable = decoder ?? body;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      body.destroy();
      decoder?.destroy();
      reject(err);
    };
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(maxBytes, describe));
      else if (keep) chunks.push(chunk);
    });
    source.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, keep ? size : 0));
    });
    source.once('error', fail);
    if (decoder) {
      body.once('error', fail);
      body.pipe(decoder);
    }
  });
}

export function tooLarge(maxBytes: number, describe: () => string): OutboundRequestError {
  return new OutboundRequestError('response_too_large', `${describe()}: response body is larger than ${maxBytes} bytes`);
}

function decoderFor(contentEncoding: string | undefined): Transform | null {
  switch (contentEncoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

/** True for `application/json` and `application/<anything>+json` (parameters ignored). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const media = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

/**
 * The response's `data`: parsed JSON when the content type says JSON (the text when it does not
 * parse; null when the body is empty), else the text ('' when empty), decoded with the charset
 * the content type names (UTF-8 by default).
 */
export function parseBody(buffer: Buffer, contentType: string | undefined): unknown {
  const json = isJsonContentType(contentType);
  if (buffer.length === 0) return json ? null : '';
  if (json) {
    const text = stripBom(buffer.toString('utf8'));
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  const charset = charsetOf(contentType);
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    try {
      return new TextDecoder(charset).decode(buffer);
    } catch {
      // an unknown charset label: fall back to UTF-8
    }
  }
  return stripBom(buffer.toString('utf8'));
}

function charsetOf(contentType: string | undefined): string | null {
  const match = contentType ? /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType) : null;
  return match ? match[1]!.toLowerCase() : null;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
