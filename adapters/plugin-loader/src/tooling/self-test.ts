import { isDeepStrictEqual } from 'node:util';
import { ContractValidators, formatIssues, type BlockTestCase, type PluginManifest, type ProviderDefinition } from '@blockyard/contracts';
import { BlockEngine, InMemoryBlockRegistry, type BlockHandler, type RegisteredBlock, type ResolvedCredential, type RunOutcome } from '@blockyard/core';
import { MockHttp } from './mock-fetch.js';
import { loadPluginEntry, PluginFolderError, readPluginFolder } from './plugin-folder.js';

/** What became of one self-test case. */
export interface SelfTestResult {
  blockId: string;
  /** The case's name. */
  name: string;
  ok: boolean;
  /** Why it failed; null when it passed. */
  reason: string | null;
  /** The run's outcome; null when the case could not run. */
  outcome: RunOutcome | null;
}

export interface SelfTestReport {
  /** The manifest's name. */
  plugin: string;
  /** Absolute path of the folder. */
  dir: string;
  results: SelfTestResult[];
  passed: number;
  failed: number;
  /** True when no case failed (also when there are none). */
  ok: boolean;
}

export interface RunSelfTestsOptions {
  validators?: ContractValidators;
  /** Time limit of each case (and of no case more than its block's timeout_ms). Default 10 s. */
  timeoutMs?: number;
  /** Called after each case, in order (for printing as they go). */
  onResult?: (result: SelfTestResult) => void;
}

/**
 * Runs the self-test cases (`tests` of each block in the manifest) of the plugin in `dir` with
 * the real BlockEngine, inputs and outputs validated: each case's `credential` becomes the
 * run's context.credentials, context.fetch answers from its `http` exchanges (see MockHttp),
 * then its `outputs` are compared deeply and its `error` as a substring of the failure.
 *
 * Throws PluginFolderError when the plugin cannot be loaded at all (no manifest, an invalid
 * one, an entry point that is missing or throws); a block without a handler fails its cases.
 */
export async function runSelfTests(dir: string, options: RunSelfTestsOptions = {}): Promise<SelfTestReport> {
  const folder = readPluginFolder(dir);
  const validators = options.validators ?? new ContractValidators();
  const checked = validators.validate<PluginManifest>('plugin-manifest.schema.json', structuredClone(folder.manifest));
  if (!checked.ok) throw new PluginFolderError(`invalid manifest ${folder.file}: ${formatIssues(checked.issues)}`);
  const manifest = checked.value;
  const entry = await loadPluginEntry({ ...folder, manifest });
  if (!entry.handlers) throw new PluginFolderError(`entry point ${manifest.entry} does not export \`handlers\``);

  const timeoutMs = options.timeoutMs ?? 10_000;
  const registry = new InMemoryBlockRegistry();
  const engine = new BlockEngine({ defaultTimeoutMs: timeoutMs, cancelGraceMs: 1_000 });
  const results: SelfTestResult[] = [];
  const report = (result: SelfTestResult) => {
    results.push(result);
    options.onResult?.(result);
  };

  for (const definition of manifest.blocks) {
    const tests = definition.tests ?? [];
    if (!tests.length) continue;
    const handler = entry.handlers[definition.id];
    let block: RegisteredBlock | null = null;
    let cannotRun: string | null = null;
    if (typeof handler !== 'function') cannotRun = `no handler exported for ${definition.id}`;
    else {
      try {
        block = registry.register({ definition, handler: handler as BlockHandler }, manifest.name);
      } catch (e) {
        cannotRun = (e as Error).message;
      }
    }
    const providerName = definition.credentials?.provider ?? definition.id.split('.')[0]!;
    const provider = manifest.providers?.find((p) => p.name === providerName);
    for (const test of tests) {
      if (!block) report({ blockId: definition.id, name: test.name, ok: false, reason: cannotRun, outcome: null });
      else report(await runSelfTestCase(engine, block, test, provider, timeoutMs));
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  return { plugin: manifest.name, dir: folder.dir, results, passed: results.length - failed, failed, ok: failed === 0 };
}

/** Runs one case of a registered block; see runSelfTests. */
export async function runSelfTestCase(engine: BlockEngine, block: RegisteredBlock, test: BlockTestCase, provider: ProviderDefinition | undefined, timeoutMs = 10_000): Promise<SelfTestResult> {
  const blockId = block.definition.id;
  const result = (reason: string | null, outcome: RunOutcome | null): SelfTestResult => ({ blockId, name: test.name, ok: reason === null, reason, outcome });
  let credentials: ResolvedCredential | null = null;
  if (test.credential) {
    const resolved = toResolvedCredential(test.credential, block.definition.credentials?.kinds);
    if (typeof resolved === 'string') return result(resolved, null);
    credentials = resolved;
  }
  const mock = new MockHttp(test.http ?? [], { baseUrl: provider?.base_url });
  const outcome = await engine.run(block, structuredClone(test.inputs) as Record<string, unknown>, {
    executionId: `self-test:${blockId}:${test.name}`,
    credentials,
    createFetch: (signal) => mock.fetchFor(signal),
    timeoutMs: Math.min(block.definition.timeout_ms ?? timeoutMs, timeoutMs),
  });

  // A request that did not match is the cause of whatever the handler did next.
  const reasons: string[] = [...mock.failures];
  const expectsError = test.error !== undefined;
  const statusAsExpected = expectsError ? outcome.status !== 'completed' : outcome.status === 'completed';
  if (!reasons.length) {
    if (expectsError && outcome.status === 'completed') reasons.push(`expected an error containing ${show(test.error)}, but it completed with outputs ${show(outcome.outputs)}`);
    else if (expectsError && !outcome.error!.includes(test.error!)) reasons.push(`expected an error containing ${show(test.error)}, got ${show(outcome.error)}`);
    else if (!expectsError && outcome.status !== 'completed') reasons.push(`${outcome.status}: ${outcome.error}`);
  }
  if (test.outputs !== undefined && statusAsExpected) {
    const diff = outputsDiff(test.outputs, JSON.parse(JSON.stringify(outcome.outputs)) as Record<string, unknown[]>);
    if (diff) reasons.push(diff);
  }
  if (!reasons.length) reasons.push(...mock.problems());
  return result(reasons.length ? reasons.join('; ') : null, outcome);
}

/**
 * The credential a case's `credential` object stands for, among the kinds the block accepts
 * (all kinds when it declares none): `api_key` -> api_key; `access_token` (and optional
 * space-separated `scopes`) -> oauth2; `username` + `password` -> user_password; `host` and
 * header names -> host_scoped. A string says why none fits.
 */
export function toResolvedCredential(credential: Readonly<Record<string, string>>, kinds?: readonly string[]): ResolvedCredential | string {
  const { api_key, access_token, scopes, username, password, host, ...headers } = credential;
  const candidates = kinds?.length ? kinds : ['api_key', 'oauth2', 'user_password', 'host_scoped'];
  for (const kind of candidates) {
    if (kind === 'api_key' && api_key !== undefined) return { kind, api_key };
    if (kind === 'oauth2' && access_token !== undefined) return { kind, access_token, scopes: (scopes ?? '').split(/[\s,]+/).filter(Boolean) };
    if (kind === 'user_password' && username !== undefined && password !== undefined) return { kind, username, password };
    if (kind === 'host_scoped' && host !== undefined) return { kind, host, headers };
  }
  const needs: Record<string, string> = { api_key: '"api_key"', oauth2: '"access_token"', user_password: '"username" and "password"', host_scoped: '"host" and header names' };
  return `credential with ${Object.keys(credential).map((k) => `"${k}"`).join(', ') || 'no fields'} fits none of ${candidates.map((k) => `${k} (${needs[k] ?? '?'})`).join(', ')}`;
}

function outputsDiff(expected: Record<string, unknown[]>, actual: Record<string, unknown[]>): string | null {
  if (isDeepStrictEqual(expected, actual)) return null;
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const diffs: string[] = [];
  for (const name of names) {
    if (!(name in actual)) diffs.push(`output ${name}: expected ${show(expected[name])}, got none`);
    else if (!(name in expected)) diffs.push(`unexpected output ${name}: ${show(actual[name])}`);
    else if (!isDeepStrictEqual(expected[name], actual[name])) diffs.push(`output ${name}: expected ${show(expected[name])}, got ${show(actual[name])}`);
  }
  return diffs.join('; ');
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** `✓ github.create_issue: creates an issue` / `✗ github.create_issue: creates an issue: <why>` */
export function formatSelfTestResult(result: SelfTestResult): string {
  return result.ok ? `✓ ${result.blockId}: ${result.name}` : `✗ ${result.blockId}: ${result.name}: ${result.reason}`;
}
