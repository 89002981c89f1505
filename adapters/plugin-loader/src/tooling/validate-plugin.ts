import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ContractValidators, createAjv, toIssues, type Ajv, type PluginManifest, type ValidateFunction } from '@blockyard/contracts';
import { autohiveConfigSchema, toAutohivePointer, type UnmappedField } from './autohive.js';
import { isKebabCase, isSnakeCase, ownProviderNames, pointer, PROVIDER_NAME, sameProviderName, toSnakeCase, words } from './naming.js';
import { loadPluginEntry, PluginFolderError, readPluginFolder, type PluginEntry, type PluginFolder } from './plugin-folder.js';
import { readPngSize } from './png.js';
import { triggerWebhookProblems } from './trigger-webhooks.js';

/** One problem of a plugin: a JSON pointer into its manifest (config.json for Autohive folders) and what is wrong. */
export interface PluginProblem {
  path: string;
  message: string;
}

export interface PluginValidation {
  /** Absolute path of the folder. */
  dir: string;
  kind: PluginFolder['kind'] | null;
  /** The manifest file (blockyard.plugin.json, or config.json of an Autohive folder); null when there is none. */
  file: string | null;
  /** The manifest as read (converted for Autohive folders); null when none could be read. */
  manifest: PluginManifest | null;
  /** Every problem found, sorted by pointer. Empty when the plugin is valid. */
  problems: PluginProblem[];
  /** Autohive fields the conversion could not map (notes, not problems). */
  unmapped: UnmappedField[];
  ok: boolean;
}

export interface ValidatePluginOptions {
  /** Compiled contract validators to reuse (created once per call otherwise). */
  validators?: ContractValidators;
  /** Import the entry point and check its handlers. Default true. */
  entry?: boolean;
}

/** `/blocks/0/id: must be ...`; the document itself is `/`. */
export function formatProblem(problem: PluginProblem): string {
  return `${problem.path || '/'}: ${problem.message}`;
}

/**
 * Checks a plugin folder and reports every problem at once: the manifest against its schema;
 * each block's input and output schema (valid JSON Schema, compiles, defaults valid); naming
 * (kebab-case directory, provider names, `<provider>.<snake_case_action>` block ids whose
 * provider is declared or the plugin's own, credential providers declared with the scopes
 * and auth methods they need); the entry point (exists, imports, exports a function per block
 * and nothing else, webhook managers); the icon (a 512×512 PNG); and the self-test cases
 * (inputs valid for the block, expected outputs that exist, relative URLs with a base URL).
 * An Autohive-style folder is converted first and its problems point into its config.json.
 */
export async function validatePlugin(dir: string, options: ValidatePluginOptions = {}): Promise<PluginValidation> {
  const abs = resolve(dir);
  let folder: PluginFolder;
  try {
    folder = readPluginFolder(abs);
  } catch (e) {
    if (!(e instanceof PluginFolderError)) throw e;
    return { dir: abs, kind: null, file: null, manifest: null, problems: [{ path: '', message: e.message }], unmapped: [], ok: false };
  }
  const validators = options.validators ?? new ContractValidators(createAjv({ verbose: true }));
  const manifest = folder.manifest as unknown;
  const problems: PluginProblem[] = [];

  const name = basename(folder.dir);
  if (!isKebabCase(name)) problems.push({ path: '', message: `directory name "${name}" must be kebab-case (e.g. ${words(name).join('-') || 'my-plugin'})` });
  if (folder.kind === 'autohive') {
    const ajv = createAjv();
    const check = ajv.compile(autohiveConfigSchema);
    if (!check(structuredClone(folder.autohive!.config))) problems.push(...toIssues(check.errors));
  }

  const found = [...checkManifest(manifest, validators), ...(await checkFiles(folder, options.entry !== false))];
  if (folder.kind === 'autohive') {
    const { runtime } = folder.autohive!;
    for (const p of found) problems.push({ path: toAutohivePointer(p.path, runtime, folder.manifest), message: p.message });
  } else problems.push(...found);

  const unique = dedupe(problems).sort(byPointer);
  return { dir: folder.dir, kind: folder.kind, file: folder.file, manifest: folder.manifest, problems: unique, unmapped: folder.unmapped, ok: unique.length === 0 };
}

/**
 * The problems of a manifest that need no file system: its schema, naming rules, its blocks'
 * schemas and its self-test cases. Pointers are into the manifest.
 */
export function checkManifest(manifest: unknown, validators: ContractValidators = new ContractValidators(createAjv({ verbose: true }))): PluginProblem[] {
  const problems = [...schemaProblems(manifest, validators), ...ruleProblems(manifest), ...blockSchemaProblems(manifest), ...triggerWebhookProblems(manifest)];
  // Where a naming rule explains a failed pattern, its message replaces ajv's regular expression.
  const explained = new Set(problems.filter((p) => p.message.startsWith(RULE)).map((p) => p.path));
  return dedupe(problems.filter((p) => !(explained.has(p.path) && p.message.startsWith('must match pattern')))).map((p) => ({ path: p.path, message: p.message.replace(RULE, '') }));
}

/** Marks messages of naming rules (stripped before they are returned). */
const RULE = '\u0000';
const PROVIDER_NAME_RULE = 'must be lowercase letters and digits in words joined by _ or -, starting with a letter (e.g. acme_crm)';

type Json = Record<string, unknown>;
type ErrorObject = NonNullable<ValidateFunction['errors']>[number];
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isString = (v: unknown): v is string => typeof v === 'string';

function schemaProblems(manifest: unknown, validators: ContractValidators): PluginProblem[] {
  const validate = validators.validator('plugin-manifest.schema.json');
  const copy = structuredClone(manifest);
  if (validate(copy)) return [];
  const errors = validate.errors ?? [];
  // A oneOf (auth methods) fails with the errors of every branch; report only those of the
  // branch its `type` picks, or that the type is unknown.
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf' && Array.isArray(e.schema));
  const replaced: PluginProblem[] = [];
  for (const e of oneOfs) {
    const at = e.instancePath;
    const value = e.data;
    const branches = e.schema as Json[];
    const typeOf = (b: Json) => ((b.properties as Json | undefined)?.type as Json | undefined)?.const;
    const branch = isObject(value) ? branches.find((b) => typeOf(b) === value.type) : undefined;
    if (!branch) {
      const types = branches.map(typeOf).filter(isString);
      replaced.push(isObject(value) && types.length ? { path: `${at}/type`, message: `must be one of ${JSON.stringify(types)}` } : { path: at, message: e.message ?? 'is invalid' });
      continue;
    }
    const check = validators.ajv.compile(branch);
    check(structuredClone(value));
    replaced.push(...toIssues(check.errors).map((i) => ({ path: at + i.path, message: i.message })));
  }
  const inside = (e: ErrorObject) => oneOfs.some((o) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`));
  const rest: PluginProblem[] = [];
  for (const e of errors) {
    if (inside(e) || e.propertyName !== undefined) continue;
    if (e.keyword === 'propertyNames') {
      const name = String((e.params as { propertyName: string }).propertyName);
      const scopes = /\/integration_scopes$/.test(e.instancePath);
      rest.push({ path: e.instancePath + pointer(name), message: scopes ? 'must be <provider>:<scope> in lowercase, e.g. acme_crm:contacts.write' : 'is not a valid property name' });
    } else if (e.instancePath === '/version' && e.keyword === 'pattern') {
      rest.push({ path: '/version', message: 'must be a semantic version, MAJOR.MINOR.PATCH (e.g. 1.0.0)' });
    } else rest.push(...toIssues([e]));
  }
  return [...rest, ...replaced];
}

function authKinds(provider: Json): string[] {
  return list(provider.auth)
    .map((a) => (isObject(a) ? a.type : undefined))
    .filter(isString);
}

function ruleProblems(manifest: unknown): PluginProblem[] {
  if (!isObject(manifest)) return [];
  const problems: PluginProblem[] = [];
  const rule = (path: string, message: string) => problems.push({ path, message: RULE + message });

  const providers = new Map<string, { def: Json; index: number }>();
  list(manifest.providers).forEach((p, i) => {
    if (!isObject(p) || !isString(p.name)) return;
    if (!PROVIDER_NAME.test(p.name)) rule(pointer('providers', i, 'name'), PROVIDER_NAME_RULE);
    const first = providers.get(p.name);
    if (first) rule(pointer('providers', i, 'name'), `duplicates /providers/${first.index}/name`);
    else providers.set(p.name, { def: p, index: i });
    if (isObject(p.integration_scopes) && PROVIDER_NAME.test(p.name)) {
      for (const key of Object.keys(p.integration_scopes)) {
        if (!key.startsWith(`${p.name}:`)) rule(pointer('providers', i, 'integration_scopes', key), `must start with "${p.name}:", the provider's name`);
      }
    }
    const kind = isObject(p.default_credential) ? p.default_credential.kind : undefined;
    if (isString(kind) && !authKinds(p).includes(kind)) rule(pointer('providers', i, 'default_credential', 'kind'), `provider ${p.name} has no ${kind} auth method`);
  });

  const own = ownProviderNames(isString(manifest.name) ? manifest.name : '');
  const ids = new Map<string, number>();
  list(manifest.blocks).forEach((b, i) => {
    if (!isObject(b)) return;
    if (isString(b.id)) {
      const at = pointer('blocks', i, 'id');
      const parts = b.id.split('.');
      if (parts.length !== 2 || !parts[0] || !parts[1]) rule(at, `must be <provider>.<action>, e.g. ${own[0] || 'acme_crm'}.create_contact`);
      else {
        const [provider, action] = parts as [string, string];
        if (!PROVIDER_NAME.test(provider)) rule(at, `provider "${provider}" ${PROVIDER_NAME_RULE}`);
        else if (!providers.has(provider) && !own.some((o) => sameProviderName(o, provider))) {
          rule(at, `provider "${provider}" is neither declared in providers nor the plugin's own (${own.join(' or ')})`);
        }
        if (!isSnakeCase(action)) rule(at, `action "${action}" must be snake_case (e.g. ${toSnakeCase(action)})`);
      }
      const first = ids.get(b.id);
      if (first !== undefined) rule(at, `duplicates /blocks/${first}/id`);
      else ids.set(b.id, i);
    }
    const c = b.credentials;
    if (isObject(c) && isString(c.provider)) {
      const declared = providers.get(c.provider);
      if (!declared) {
        rule(pointer('blocks', i, 'credentials', 'provider'), PROVIDER_NAME.test(c.provider) ? `provider "${c.provider}" is not declared in providers` : PROVIDER_NAME_RULE);
      } else {
        const scopes = isObject(declared.def.integration_scopes) ? Object.keys(declared.def.integration_scopes) : [];
        list(c.scopes).forEach((s, k) => {
          if (isString(s) && !scopes.includes(s)) {
            rule(pointer('blocks', i, 'credentials', 'scopes', k), `"${s}" is not an integration scope of provider ${c.provider} (${scopes.length ? `it declares ${scopes.join(', ')}` : 'it declares none'})`);
          }
        });
        const kinds = authKinds(declared.def);
        list(c.kinds).forEach((kind, k) => {
          if (isString(kind) && !kinds.includes(kind)) rule(pointer('blocks', i, 'credentials', 'kinds', k), `provider ${c.provider} has no ${kind} auth method`);
        });
      }
    }
  });
  return problems;
}

function blockSchemaProblems(manifest: unknown): PluginProblem[] {
  if (!isObject(manifest)) return [];
  const problems: PluginProblem[] = [];
  // One ajv for the plugin, as the block registry compiles all of a process's blocks in one.
  const ajv = createAjv();
  const providers = new Map(
    list(manifest.providers)
      .filter(isObject)
      .map((p) => [p.name, p] as const),
  );
  list(manifest.blocks).forEach((b, i) => {
    if (!isObject(b)) return;
    let input: ValidateFunction | null = null;
    const outputs = new Map<string, ValidateFunction | null>();
    for (const key of ['input_schema', 'output_schema'] as const) {
      const schema = b[key];
      if (!isObject(schema)) continue; // the manifest schema reports it
      const at = pointer('blocks', i, key);
      const properties = isObject(schema.properties) ? schema.properties : {};
      // Each property on its own: its default is checked even when another property is broken.
      for (const [name, property] of Object.entries(properties)) {
        const fn = compileQuietly(ajv, property);
        if (key === 'output_schema') outputs.set(name, fn);
        if (fn && isObject(property) && 'default' in property && !fn(structuredClone(property.default))) {
          problems.push(...toIssues(fn.errors).map((p) => ({ path: `${at}${pointer('properties', name, 'default')}${p.path}`, message: p.message })));
        }
      }
      const meta = metaSchemaProblems(ajv, schema);
      if (meta.length) {
        problems.push(...meta.map((p) => ({ path: at + p.path, message: p.message })));
        continue;
      }
      try {
        const compiled = ajv.compile(schema);
        if (key === 'input_schema') input = compiled;
      } catch (e) {
        problems.push({ path: at, message: `does not compile: ${(e as Error).message}` });
      }
    }

    const blockProvider = isObject(b.credentials) && isString(b.credentials.provider) ? b.credentials.provider : isString(b.id) ? b.id.split('.')[0]! : '';
    const baseUrl = providers.get(blockProvider)?.base_url;
    const names = new Map<string, number>();
    list(b.tests).forEach((t, j) => {
      if (!isObject(t)) return;
      const at = pointer('blocks', i, 'tests', j);
      if (isString(t.name)) {
        const first = names.get(t.name);
        if (first !== undefined) problems.push({ path: `${at}/name`, message: `duplicates ${pointer('blocks', i, 'tests', first, 'name')}` });
        else names.set(t.name, j);
      }
      if (input && isObject(t.inputs) && !input(structuredClone(t.inputs))) {
        problems.push(...toIssues(input.errors).map((p) => ({ path: `${at}/inputs${p.path}`, message: p.message })));
      }
      if (isObject(t.outputs) && isObject(b.output_schema)) {
        for (const [name, values] of Object.entries(t.outputs)) {
          const where = `${at}${pointer('outputs', name)}`;
          if (name === 'error') problems.push({ path: where, message: 'a run yields no `error` output (it fails with it): expect it with the case\'s "error"' });
          else if (!outputs.has(name)) problems.push({ path: where, message: `is not an output of this block (${[...outputs.keys()].join(', ') || 'it declares none'})` });
          else {
            const fn = outputs.get(name);
            list(values).forEach((value, k) => {
              if (fn && !fn(structuredClone(value))) problems.push(...toIssues(fn.errors).map((p) => ({ path: `${where}/${k}${p.path}`, message: p.message })));
            });
          }
        }
      }
      list(t.http).forEach((x, k) => {
        if (isObject(x) && isString(x.url) && !/^https?:\/\//i.test(x.url) && !isString(baseUrl)) {
          problems.push({ path: `${at}/http/${k}/url`, message: `is relative, but provider ${blockProvider || '(none)'} has no base_url` });
        }
      });
    });
  });
  return problems;
}

function compileQuietly(ajv: Ajv, schema: unknown): ValidateFunction | null {
  if (typeof schema !== 'boolean' && !isObject(schema)) return null;
  try {
    return ajv.compile(schema as object);
  } catch {
    return null; // broken, or a local $ref into the whole schema: the whole schema's checks report it
  }
}

/**
 * Problems of a schema against the JSON Schema meta-schema, pointers into the schema. A
 * keyword that must match one of several forms (type: a name or a list of names) reports
 * once, with the allowed values when there are some.
 */
export function metaSchemaProblems(ajv: Ajv, schema: object): PluginProblem[] {
  if (ajv.validateSchema(schema)) return [];
  const errors = ajv.errors ?? [];
  const alternatives = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const problems: PluginProblem[] = [];
  for (const path of alternatives) {
    const enums = errors.filter((e) => e.instancePath === path && e.keyword === 'enum');
    problems.push(...(enums.length ? toIssues(enums) : [{ path, message: 'must be a valid value of this keyword' }]));
  }
  problems.push(...toIssues(errors.filter((e) => !alternatives.has(e.instancePath))));
  return problems;
}

async function checkFiles(folder: PluginFolder, importEntry: boolean): Promise<PluginProblem[]> {
  const problems: PluginProblem[] = [];
  const manifest = folder.manifest as unknown as Json;
  const autohive = folder.kind === 'autohive';

  if (!isString(manifest.icon)) {
    problems.push({ path: '/icon', message: autohive ? 'icon.png is required beside config.json: a 512×512 PNG' : 'is required: the path of a 512×512 PNG, e.g. ./icon.png' });
  } else {
    const file = resolve(folder.dir, manifest.icon);
    const size = existsSync(file) ? pngSizeOf(file) : undefined;
    if (size === undefined) problems.push({ path: '/icon', message: `${manifest.icon} does not exist` });
    else if (size === null) problems.push({ path: '/icon', message: `${manifest.icon} is not a PNG` });
    else if (size.width !== 512 || size.height !== 512) problems.push({ path: '/icon', message: `${manifest.icon} is ${size.width}×${size.height}; it must be 512×512` });
  }

  if (!isString(manifest.entry) || !manifest.entry || !importEntry) return problems;
  if (!existsSync(resolve(folder.dir, manifest.entry))) {
    problems.push({ path: '/entry', message: `${manifest.entry} does not exist (was the plugin built?)` });
    return problems;
  }
  let entry: PluginEntry;
  try {
    entry = await loadPluginEntry(folder);
  } catch (e) {
    problems.push({ path: '/entry', message: (e as Error).message.replace(/^entry point /, '') });
    return problems;
  }
  if (!entry.handlers) {
    problems.push({ path: '/entry', message: `${manifest.entry} does not export \`handlers\` (block id -> handler)` });
    return problems;
  }
  const ids = new Set<string>();
  list(manifest.blocks).forEach((b, i) => {
    if (!isObject(b) || !isString(b.id)) return;
    ids.add(b.id);
    const handler = entry.handlers![b.id];
    const action = autohive ? folder.autohive!.runtime.actions[b.id] : undefined;
    if (handler === undefined) problems.push({ path: pointer('blocks', i), message: autohive ? `the entry exports no function ${action}` : `no handler for ${b.id} in the entry's handlers` });
    else if (typeof handler !== 'function') problems.push({ path: pointer('blocks', i), message: `the handler of ${b.id} is not a function` });
  });
  for (const id of Object.keys(entry.handlers)) {
    if (!ids.has(id)) problems.push({ path: '/entry', message: `exports a handler for ${id}, which is not a ${autohive ? 'action of config.json' : 'block of this manifest'}` });
  }
  list(manifest.providers).forEach((p, i) => {
    if (!isObject(p) || !isObject(p.webhooks) || !isString(p.name)) return;
    const manager = entry.webhooks[p.name] as { verify?: unknown } | undefined;
    if (typeof manager?.verify !== 'function') problems.push({ path: pointer('providers', i, 'webhooks'), message: `the entry exports no webhook manager for ${p.name} (webhooks.${p.name})` });
  });
  return problems;
}

/** The size in a PNG file's header; null when it is not a PNG. */
function pngSizeOf(file: string): { width: number; height: number } | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(24);
    const n = readSync(fd, head, 0, 24, 0);
    return readPngSize(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

function dedupe(problems: PluginProblem[]): PluginProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Orders pointers as documents read: /blocks/2 before /blocks/10. Stable within a pointer. */
function byPointer(a: PluginProblem, b: PluginProblem): number {
  const x = a.path.split('/');
  const y = b.path.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const [m, n] = [Number(x[i]), Number(y[i])];
    if (x[i] !== '' && y[i] !== '' && Number.isInteger(m) && Number.isInteger(n)) return m - n;
    return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}
