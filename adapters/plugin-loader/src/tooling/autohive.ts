import type { BlockDefinition, PluginManifest, ProviderDefinition } from '@blockyard/contracts';
import type { BlockHandler } from '@blockyard/core';
import { isSnakeCase, ownProviderNames, pointer, toSnakeCase, toTitle } from './naming.js';

/**
 * Autohive-style integration folders (`config.json` + an entry point with one function per
 * action), converted to Blockyard manifests.
 *
 * Mapping:
 * - `name`, `version`, `description`, `display_name` -> the same manifest fields.
 * - `entry_point` -> `entry` (`./<entry_point>`); a Python entry point cannot run here and is
 *   listed as unmapped.
 * - each `actions.<action>` -> block `<plugin>.<action>`: `<plugin>` is the integration name in
 *   snake_case (`my-integration` -> `my_integration`), `<action>` the action name in snake_case
 *   (a renamed action is listed). `display_name` -> `name`, `description`, `input_schema`,
 *   `output_schema` as they are; `categories` empty.
 * - `auth.type` custom -> a provider named like the plugin with an `api_key` auth method sent as
 *   `Authorization: Bearer <key>`, and blocks that need an api_key credential; the key's form
 *   field (the first required field of `auth.fields`) is what handlers read from
 *   `context.auth.credentials`. platform -> a provider named `auth.provider` with an `oauth2`
 *   method whose `scopes` are `auth.scopes` and whose endpoints are placeholders (listed as
 *   unmapped: Autohive knows them, config.json does not). none / absent -> no credentials.
 * - `supports_billing` -> whether an action's `cost_usd` counts as the run's cost.
 * - anything else (`supports_connected_account`, `auth.title`, extra auth fields, unknown
 *   keys) is listed in `unmapped` with its JSON pointer into config.json.
 *
 * Handlers: the entry point exports one function per action, `(inputs, context) => result`,
 * as named exports (`export async function get_items`), or in an exported `handlers` or
 * `actions` object, or on the default export, keyed by the Autohive action name. Each is
 * adapted to the Blockyard handler of block `conversion.runtime.actions` maps to it (see
 * adaptAutohiveAction): the function gets `context.auth` as Autohive shapes it, and its
 * `{ data, cost_usd }` result becomes the block's outputs (one output per property of `data`).
 */

/** One field of the source that has no place in the converted manifest, and why. */
export interface UnmappedField {
  /** JSON pointer into the source document (config.json). */
  path: string;
  reason: string;
}

/** What the adapted handlers need to know at run time. Plain JSON: generated entries embed it. */
export interface AutohiveRuntime {
  authType: 'custom' | 'platform' | 'none';
  /** The form field a custom credential fills (e.g. api_token); null without custom auth. */
  credentialField: string | null;
  /** supports_billing: an action's cost_usd counts as the run's cost. */
  billing: boolean;
  /** Block id -> the Autohive action name whose function handles it. */
  actions: Record<string, string>;
}

export interface AutohiveConversion {
  manifest: PluginManifest;
  unmapped: UnmappedField[];
  runtime: AutohiveRuntime;
}

/** An Autohive action function. */
export type AutohiveActionFunction = (inputs: Record<string, unknown>, context: AutohiveContext) => unknown;

/** The context an Autohive action gets: Blockyard's, plus `auth` as Autohive shapes it. */
export interface AutohiveContext {
  readonly auth: { auth_type?: string; credentials?: Record<string, string> };
  /** Autohive's fetch options (`params`, `json`, `data`, `headers`, `method`) on context.fetch. */
  fetch(url: string, options?: Record<string, unknown>): Promise<unknown>;
  readonly signal: AbortSignal;
  readonly logger: unknown;
  readonly executionId: string;
  readonly blockId: string;
  readonly credentials: unknown;
  addCost(usd: number): void;
}

const KNOWN_TOP_LEVEL = new Set(['name', 'version', 'description', 'display_name', 'entry_point', 'auth', 'actions', 'supports_billing']);
const KNOWN_ACTION_FIELDS = new Set(['display_name', 'description', 'input_schema', 'output_schema']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Converts an Autohive config.json to a Blockyard manifest. The manifest is not validated
 * here (a config missing `version` gives a manifest missing `version`): validate it with
 * the manifest schema, as for any other.
 */
export function convertAutohiveConfig(config: unknown): AutohiveConversion {
  const unmapped: UnmappedField[] = [];
  const runtime: AutohiveRuntime = { authType: 'none', credentialField: null, billing: false, actions: {} };
  if (!isObject(config)) {
    unmapped.push({ path: '', reason: 'config.json is not a JSON object' });
    return { manifest: { name: '', version: '', entry: '', blocks: [] }, unmapped, runtime };
  }
  const name = typeof config.name === 'string' ? config.name : '';
  const own = ownProviderNames(name || 'integration')[0]!;
  const manifest = { name: config.name, version: config.version, entry: entryOf(config.entry_point), blocks: [] as BlockDefinition[] } as PluginManifest;
  if (config.display_name !== undefined) manifest.display_name = config.display_name as string;
  if (config.description !== undefined) manifest.description = config.description as string;
  if (typeof config.entry_point === 'string' && /\.py$/i.test(config.entry_point)) {
    unmapped.push({ path: '/entry_point', reason: 'a Python entry point cannot run in Blockyard: port the actions to an ES module exporting one function per action' });
  }
  if (config.supports_billing !== undefined) runtime.billing = config.supports_billing === true;

  for (const key of Object.keys(config)) {
    if (KNOWN_TOP_LEVEL.has(key)) continue;
    unmapped.push({
      path: pointer(key),
      reason: key === 'supports_connected_account' ? 'Blockyard has no connected-account display' : 'not an Autohive field Blockyard knows',
    });
  }

  const credentials = convertAuth(config, own, manifest, runtime, unmapped);

  const actions = isObject(config.actions) ? config.actions : {};
  for (const [action, raw] of Object.entries(actions)) {
    const at = pointer('actions', action);
    const def = isObject(raw) ? raw : {};
    const actionId = isSnakeCase(action) ? action : toSnakeCase(action);
    if (actionId !== action) unmapped.push({ path: at, reason: `action name "${action}" is not snake_case: the block id uses "${actionId}"` });
    const id = `${own}.${actionId}`;
    runtime.actions[id] = action;
    const block = {
      id,
      name: typeof def.display_name === 'string' ? def.display_name : toTitle(action, true),
      description: def.description,
      categories: [],
      kind: 'action',
      input_schema: structuredClone(def.input_schema),
      output_schema: structuredClone(def.output_schema),
    } as BlockDefinition;
    if (credentials) block.credentials = structuredClone(credentials);
    manifest.blocks.push(block);
    for (const key of Object.keys(def)) if (!KNOWN_ACTION_FIELDS.has(key)) unmapped.push({ path: pointer('actions', action, key), reason: 'not an Autohive action field Blockyard knows' });
    const output = def.output_schema;
    if (isObject(output) && !isObject(output.properties)) {
      unmapped.push({ path: pointer('actions', action, 'output_schema'), reason: 'has no properties: Blockyard outputs are the properties of output_schema, so the block can only fail' });
    }
    if (isObject(output) && isObject(output.properties) && 'error' in output.properties) {
      unmapped.push({ path: pointer('actions', action, 'output_schema', 'properties', 'error'), reason: 'an `error` output fails the run in Blockyard; an action returning it in data fails' });
    }
  }
  return { manifest, unmapped, runtime };
}

function entryOf(entryPoint: unknown): string {
  if (typeof entryPoint !== 'string') return entryPoint as string;
  return entryPoint.startsWith('./') || entryPoint.startsWith('../') || entryPoint.startsWith('/') ? entryPoint : `./${entryPoint}`;
}

function convertAuth(config: Record<string, unknown>, own: string, manifest: PluginManifest, runtime: AutohiveRuntime, unmapped: UnmappedField[]): BlockDefinition['credentials'] | null {
  const auth = config.auth;
  if (auth === undefined) return null;
  if (!isObject(auth)) {
    unmapped.push({ path: '/auth', reason: 'is not an object' });
    return null;
  }
  const display = typeof config.display_name === 'string' ? config.display_name : typeof config.name === 'string' ? config.name : own;
  const handled = new Set(['type']);
  let credentials: BlockDefinition['credentials'] | null = null;
  if (auth.type === 'none') {
    // nothing to map
  } else if (auth.type === 'custom') {
    handled.add('fields');
    const fields = isObject(auth.fields) ? auth.fields : {};
    const properties = isObject(fields.properties) ? Object.keys(fields.properties) : [];
    const required = Array.isArray(fields.required) ? fields.required.filter((f): f is string => typeof f === 'string' && properties.includes(f)) : [];
    const field = required[0] ?? properties[0] ?? 'api_key';
    if (!properties.length) unmapped.push({ path: '/auth/fields', reason: `names no field: handlers get the key as context.auth.credentials.${field}` });
    for (const other of properties) {
      if (other !== field) unmapped.push({ path: pointer('auth', 'fields', 'properties', other), reason: `a Blockyard api_key credential holds one secret: only "${field}" is mapped` });
    }
    const provider: ProviderDefinition = { name: own, display_name: display, auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }] };
    manifest.providers = [provider];
    runtime.authType = 'custom';
    runtime.credentialField = field;
    credentials = { provider: own, kinds: ['api_key'] };
  } else if (auth.type === 'platform') {
    handled.add('provider').add('scopes');
    const name = typeof auth.provider === 'string' && auth.provider ? toSnakeCase(auth.provider) : own;
    const scopes = Array.isArray(auth.scopes) ? auth.scopes.filter((s): s is string => typeof s === 'string') : [];
    const provider: ProviderDefinition = {
      name,
      display_name: typeof auth.provider === 'string' && auth.provider ? toTitle(auth.provider) : display,
      auth: [{ type: 'oauth2', authorize_url: `https://${name.replace(/_/g, '-')}.invalid/oauth/authorize`, token_url: `https://${name.replace(/_/g, '-')}.invalid/oauth/token`, scopes }],
    };
    manifest.providers = [provider];
    unmapped.push({
      path: typeof auth.provider === 'string' ? '/auth/provider' : '/auth',
      reason: `platform OAuth2${typeof auth.provider === 'string' ? ` provider "${auth.provider}"` : ''}: its endpoints are Autohive's, not in config.json; /providers/0/auth/0/authorize_url and token_url are placeholders to fill in`,
    });
    runtime.authType = 'platform';
    credentials = { provider: name, kinds: ['oauth2'] };
  } else {
    unmapped.push({ path: '/auth/type', reason: `auth type ${JSON.stringify(auth.type)} is not custom, platform or none: no credentials mapped` });
  }
  for (const key of Object.keys(auth)) {
    if (handled.has(key)) continue;
    unmapped.push({ path: pointer('auth', key), reason: key === 'title' ? 'Blockyard has no title for an auth section; the provider display_name names it' : 'not an Autohive auth field Blockyard knows' });
  }
  return credentials;
}

/**
 * The Blockyard handler for one Autohive action function. Self-contained on purpose (it uses
 * nothing outside its own body): `blockyard plugin import` embeds its source in the entry
 * module it generates, so that imported and directly loaded Autohive folders run alike.
 *
 * The action gets `(inputs, context)` where context is Blockyard's plus `auth`
 * (`{ auth_type, credentials: { <field>: key } }` for custom auth, `{ auth_type:
 * 'PlatformOauth2', credentials: { access_token } }` for platform auth) and a `fetch` that
 * also takes Autohive's `params` (query) and `data` (form body). Its result:
 * `{ data, cost_usd }` -> the outputs (each property of data) and the cost (with
 * supports_billing); `{ error, cost_usd }` -> an expected failure; an ActionError as it is;
 * any other object -> the outputs; nothing -> no outputs.
 */
export function adaptAutohiveAction(action: string, fn: AutohiveActionFunction, runtime: AutohiveRuntime): BlockHandler {
  return async (inputs, context) => {
    const credential = context.credentials as { kind?: string; api_key?: string; access_token?: string } | null;
    const credentials: Record<string, string> = {};
    if (credential && credential.kind === 'api_key' && runtime.credentialField) credentials[runtime.credentialField] = credential.api_key ?? '';
    if (credential && credential.kind === 'oauth2') credentials.access_token = credential.access_token ?? '';
    const auth = runtime.authType === 'none' ? {} : { auth_type: runtime.authType === 'platform' ? 'PlatformOauth2' : 'custom', credentials };
    const autohiveContext = {
      auth,
      fetch(url: string, options: Record<string, unknown> = {}) {
        const { params, data, ...rest } = options;
        const request: Record<string, unknown> = { ...rest };
        if (params) request.query = params;
        if (data !== undefined && data !== null && typeof data === 'object') {
          request.body = new URLSearchParams(data as Record<string, string>).toString();
          request.headers = { 'content-type': 'application/x-www-form-urlencoded', ...(rest.headers as Record<string, string> | undefined) };
        } else if (data !== undefined) request.body = data;
        return context.fetch(url, request);
      },
      get signal() {
        return context.signal;
      },
      logger: context.logger,
      executionId: context.executionId,
      blockId: context.blockId,
      credentials: context.credentials,
      addCost: (usd: number) => context.addCost(usd),
    };
    const result = (await fn(inputs, autohiveContext)) as Record<string | symbol, unknown> | null | undefined;
    if (result === undefined || result === null) return;
    if (typeof result !== 'object' || Array.isArray(result)) {
      return { error: `Autohive action ${action} returned ${Array.isArray(result) ? 'an array' : typeof result}; expected { data, cost_usd }` };
    }
    if (result[Symbol.for('blockyard/ActionError')] === true) return result as never;
    const rawCost = result.cost_usd ?? result.costUsd;
    const costUsd = runtime.billing && typeof rawCost === 'number' ? rawCost : 0;
    if ('data' in result) return { data: result.data as Record<string, unknown>, costUsd };
    if (typeof result.error === 'string') return { error: result.error, costUsd };
    return { data: result as Record<string, unknown>, costUsd: 0 };
  };
}

/** The function an Autohive entry module exports for an action, if any. */
export function autohiveActionFunction(module: Record<string, unknown>, action: string): AutohiveActionFunction | undefined {
  const pick = (holder: unknown) => (isObject(holder) || typeof holder === 'function' ? (holder as Record<string, unknown>)[action] : undefined);
  const found = [pick(module.handlers), pick(module.actions), module[action], pick(module.default)].find((f) => typeof f === 'function');
  return found as AutohiveActionFunction | undefined;
}

/**
 * The handlers of an Autohive entry module, keyed by block id; actions without a function are
 * left out (validate and the loader report them). Keys of an exported `handlers` object that
 * are not actions are kept as they are, so that they can be reported as extra.
 */
export function autohiveHandlers(module: Record<string, unknown>, runtime: AutohiveRuntime): Record<string, unknown> {
  const handlers: Record<string, unknown> = {};
  for (const [blockId, action] of Object.entries(runtime.actions)) {
    const fn = autohiveActionFunction(module, action);
    if (fn) handlers[blockId] = adaptAutohiveAction(action, fn, runtime);
  }
  const actionNames = new Set(Object.values(runtime.actions));
  if (isObject(module.handlers)) for (const key of Object.keys(module.handlers)) if (!actionNames.has(key)) handlers[key] = module.handlers[key];
  return handlers;
}

/**
 * The source of an ES module that adapts an Autohive entry to Blockyard: it imports the entry
 * (`entrySpecifier`, relative to the generated file) and exports `handlers` keyed by block id,
 * through the same adaptAutohiveAction as in-process loading.
 */
export function autohiveEntrySource(entrySpecifier: string, runtime: AutohiveRuntime): string {
  return `// Generated by \`blockyard plugin import\` from config.json: adapts the Autohive entry point's
// per-action functions to Blockyard handlers keyed by block id. Regenerate it rather than edit it.
import * as entry from ${JSON.stringify(entrySpecifier)};

const runtime = ${JSON.stringify(runtime, null, 2)};

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

${autohiveActionFunction.toString()}

${adaptAutohiveAction.toString()}

export const handlers = {};
for (const [blockId, action] of Object.entries(runtime.actions)) {
  const fn = autohiveActionFunction(entry, action);
  if (fn) handlers[blockId] = adaptAutohiveAction(action, fn, runtime);
}
`;
}

/**
 * The config.json pointer a pointer into the converted manifest stands for, so that problems
 * of an Autohive folder name the field its author wrote.
 */
export function toAutohivePointer(manifestPointer: string, runtime: AutohiveRuntime, manifest: PluginManifest): string {
  const m = /^\/blocks\/(\d+)(\/[^/]*)?(.*)$/.exec(manifestPointer);
  if (m) {
    const block = manifest.blocks?.[Number(m[1])];
    const action = block ? runtime.actions[block.id] : undefined;
    if (action === undefined) return manifestPointer;
    const base = pointer('actions', action);
    const field = m[2] ?? '';
    if (field === '' || field === '/id') return base + (field === '' ? m[3]! : '');
    if (field === '/name') return `${base}/display_name${m[3]}`;
    if (field === '/credentials') return '/auth';
    return base + field + m[3]!;
  }
  if (manifestPointer === '/entry' || manifestPointer.startsWith('/entry/')) return '/entry_point';
  if (manifestPointer.startsWith('/providers')) return '/auth';
  return manifestPointer;
}

/** A minimal schema of Autohive's config.json, to report its problems with its own pointers. */
export const autohiveConfigSchema = {
  type: 'object',
  required: ['name', 'version', 'description', 'entry_point', 'actions'],
  properties: {
    name: { type: 'string', minLength: 1 },
    version: { type: 'string', pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$' },
    description: { type: 'string' },
    display_name: { type: 'string' },
    entry_point: { type: 'string', minLength: 1 },
    supports_billing: { type: 'boolean' },
    supports_connected_account: { type: 'boolean' },
    auth: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['custom', 'platform', 'none'] },
        title: { type: 'string' },
        fields: { type: 'object' },
        provider: { type: 'string', minLength: 1 },
        scopes: { type: 'array', items: { type: 'string' } },
      },
    },
    actions: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        required: ['description', 'input_schema', 'output_schema'],
        properties: {
          display_name: { type: 'string' },
          description: { type: 'string' },
          input_schema: { type: 'object' },
          output_schema: { type: 'object' },
        },
      },
    },
  },
} as const;
