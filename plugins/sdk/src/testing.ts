// @blockyard/plugin-sdk/testing — test doubles for plugin specs: a context whose fetch records
// calls and answers canned responses, a runner that drives a handler as the engine would, and a
// runner for a manifest's self-test cases.
import { readFileSync } from 'node:fs';
import { ActionError, type BlockContext, type BlockHandler, type ContextFetch, type FetchRequest, type PluginHandlers, type ResolvedCredential } from './index.js';

/** One request a handler made through context.fetch. */
export interface RecordedCall {
  url: string;
  method: string;
  request: FetchRequest;
}

/** A canned answer of fetchMock: a response, or an error that fetch throws. */
export type CannedResponse = { status?: number; headers?: Record<string, string>; data?: unknown } | Error;

export interface FetchMock {
  fetch: ContextFetch;
  calls: RecordedCall[];
}

/** A context.fetch that records each call and answers the responses in order. */
export function fetchMock(...responses: CannedResponse[]): FetchMock {
  const calls: RecordedCall[] = [];
  const queue = [...responses];
  const fetch = (async (url: string, request: FetchRequest = {}) => {
    const method = (request.method ?? 'GET').toUpperCase();
    calls.push({ url, method, request });
    const next = queue.shift();
    if (next === undefined) throw new Error(`unexpected request ${method} ${url}`);
    if (next instanceof Error) throw next;
    const status = next.status ?? 200;
    const headers = Object.fromEntries(Object.entries(next.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { status, ok: status >= 200 && status < 300, headers, data: next.data ?? '', url };
  }) as ContextFetch;
  return { fetch, calls };
}

/** A BlockContext for a handler run outside the engine. */
export function contextFixture(fetch: ContextFetch, options: { credentials?: ResolvedCredential | null; signal?: AbortSignal } = {}): BlockContext {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  return {
    executionId: 'spec',
    blockId: 'spec',
    signal: options.signal ?? new AbortController().signal,
    logger,
    addCost() {},
    credentials: options.credentials === undefined ? { kind: 'api_key', api_key: 'test-token' } : options.credentials,
    fetch,
  };
}

/** What a run produced: the outputs in the order yielded, and the failure message if it failed. */
export interface RunResult {
  outputs: Array<[string, unknown]>;
  error: string | null;
}

/**
 * Drives a handler as the engine does: collects yielded outputs, turns a returned or thrown
 * ActionError (and an `error` output) into a failure. Any other exception propagates.
 */
export async function run<I>(handler: BlockHandler<I>, inputs: I, context: BlockContext): Promise<RunResult> {
  const outputs: Array<[string, unknown]> = [];
  try {
    let ret: unknown = handler(inputs, context);
    if (ret && typeof ret === 'object' && Symbol.asyncIterator in ret) {
      for await (const [name, value] of ret as AsyncIterable<[string, unknown]>) {
        if (name === 'error') return { outputs, error: String(value) };
        outputs.push([name, value]);
      }
      return { outputs, error: null };
    }
    ret = await ret;
    if (ActionError.is(ret)) return { outputs, error: ret.message };
    const data = (ret as { data?: Record<string, unknown> } | undefined)?.data ?? {};
    return { outputs: Object.entries(data), error: null };
  } catch (e) {
    if (ActionError.is(e)) return { outputs, error: e.message };
    throw e;
  }
}

/** Outputs by name, each with its list of values, as an execution reports them. */
export function byName(outputs: Array<[string, unknown]>): Record<string, unknown[]> {
  const grouped: Record<string, unknown[]> = {};
  for (const [name, value] of outputs) (grouped[name] ??= []).push(value);
  return grouped;
}

interface SelfTestCase {
  name: string;
  inputs: Record<string, unknown>;
  credential?: Record<string, string>;
  outputs?: Record<string, unknown[]>;
  error?: string;
  http?: Array<{ method: string; url: string; request_body?: unknown; status?: number; headers?: Record<string, string>; body?: unknown }>;
}

export interface ManifestFixture {
  name: string;
  providers?: Array<{ name: string; base_url?: string }>;
  blocks: Array<{
    id: string;
    input_schema: { properties?: Record<string, { default?: unknown }> };
    output_schema: { properties?: Record<string, unknown> };
    credentials?: { provider: string };
    tests?: SelfTestCase[];
  }>;
}

/** A plugin's blockyard.plugin.json, e.g. `readManifest(new URL('../blockyard.plugin.json', import.meta.url))` from a spec in dist/. */
export function readManifest(file: URL | string): ManifestFixture {
  return JSON.parse(readFileSync(file, 'utf8')) as ManifestFixture;
}
