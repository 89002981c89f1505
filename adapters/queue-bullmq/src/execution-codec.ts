import type { ExecutionEvent } from '@blockyard/core';

/** How a Date travels in JSON: an object with this one key, so that strings that look like dates stay strings. */
const DATE_TAG = '$blockyard.date';

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Date ? { [DATE_TAG]: Number.isNaN(raw.getTime()) ? null : raw.toISOString() } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[DATE_TAG];
    if (tagged !== undefined && Object.keys(value).length === 1) return typeof tagged === 'string' ? new Date(tagged) : new Date(NaN);
  }
  return value;
}

/** An event as JSON for Redis, with where it was published. Dates, wherever they are, come back as Dates. */
export function encodeEvent(origin: string, event: ExecutionEvent): string {
  return JSON.stringify({ o: origin, e: event }, replacer);
}

/** The origin and event of a message from `encodeEvent`, or null when it is not one. */
export function decodeEvent(message: string): { origin: string; event: ExecutionEvent } | null {
  let parsed: { o?: unknown; e?: { type?: unknown; executionId?: unknown } } | null;
  try {
    parsed = JSON.parse(message, reviver) as typeof parsed;
  } catch {
    return null;
  }
  const e = parsed?.e;
  if (typeof parsed?.o !== 'string' || !e || typeof e.type !== 'string' || typeof e.executionId !== 'string') return null;
  return { origin: parsed.o, event: e as ExecutionEvent };
}
