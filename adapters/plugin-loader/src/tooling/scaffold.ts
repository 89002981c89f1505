import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { PluginManifest } from '@blockyard/contracts';
import { isKebabCase, isSnakeCase, toPascalCase, toSnakeCase, toTitle, words } from './naming.js';
import { colourFor, placeholderIconPng } from './png.js';
import { blockTypeBaseName, generateBlockTypes, GENERATED_TYPES_FILE } from './typegen.js';

export interface ScaffoldOptions {
  /** The package name, kebab-case: `acme-crm`. */
  name: string;
  /** Where to create it; default `./<name>`. Must not exist, or be empty; its name must be kebab-case. */
  dir?: string;
  /** The action of its one block, snake_case; default `create_item`. The block id is `<provider>.<action>`. */
  action?: string;
  /** The provider's display name; default from the name (`Acme Crm`). */
  displayName?: string;
}

export interface ScaffoldResult {
  dir: string;
  /** The files written, relative to dir. */
  files: string[];
  manifest: PluginManifest;
}

/** Why a plugin cannot be scaffolded: a bad name (`usage`) or a folder already in use. */
export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
  constructor(
    message: string,
    readonly kind: 'usage' | 'conflict',
  ) {
    super(message);
  }
}

/**
 * Creates a plugin package that passes `blockyard plugin validate` and `blockyard plugin test`
 * as generated: package.json (depending on @blockyard/plugin-sdk), a self-contained
 * tsconfig.json, blockyard.plugin.json (one provider, one action block with two self-test
 * cases), the handler, a spec, README.md, a 512×512 placeholder icon.png and the generated
 * types.
 *
 * The handler is plain ES module JavaScript with JSDoc types (`src/index.js`, the manifest's
 * entry): Blockyard loads it without a build step, and it imports nothing at run time, so
 * `validate` and `test` work on a fresh folder before `npm install`. `npm run typecheck`
 * (tsc with checkJs) checks it against the SDK and the generated types once installed. A
 * TypeScript plugin instead sets `entry` to its build output (`./dist/index.js`).
 */
export async function scaffoldPlugin(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!isKebabCase(name)) throw new ScaffoldError(`plugin name "${name}" must be kebab-case, e.g. ${words(name).join('-') || 'acme-crm'}`, 'usage');
  const action = options.action ?? 'create_item';
  if (!isSnakeCase(action)) throw new ScaffoldError(`action "${action}" must be snake_case, e.g. ${toSnakeCase(action)}`, 'usage');
  const dir = resolve(options.dir ?? name);
  if (!isKebabCase(basename(dir))) throw new ScaffoldError(`folder name "${basename(dir)}" must be kebab-case (blockyard plugin validate requires it)`, 'usage');
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ScaffoldError(`${dir} exists and is not a folder`, 'conflict');
    if (readdirSync(dir).length) throw new ScaffoldError(`${dir} is not empty; refusing to overwrite it`, 'conflict');
  }

  const t = templateNames(name, action, options.displayName);
  const manifest = manifestFor(t);
  const files: Record<string, string | Buffer> = {
    'package.json': json(packageJsonFor(t)),
    'tsconfig.json': json(TSCONFIG),
    'blockyard.plugin.json': json(manifest),
    'src/index.js': handlerSource(t),
    'src/index.test.js': specSource(t),
    'README.md': readmeFor(t),
    'icon.png': placeholderIconPng(colourFor(name)),
    '.gitignore': 'node_modules/\n',
  };
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  await generateBlockTypes(dir);
  return { dir, files: [...Object.keys(files), GENERATED_TYPES_FILE].sort(), manifest };
}

interface TemplateNames {
  name: string;
  display: string;
  provider: string;
  action: string;
  blockId: string;
  blockName: string;
  /** The resource the action creates: contact / contacts. */
  noun: string;
  /** `a contact`, `an item`. */
  aNoun: string;
  plural: string;
  handlerName: string;
  inputsType: string;
  scope: string;
  env: string;
  baseUrl: string;
}

function templateNames(name: string, action: string, displayName?: string): TemplateNames {
  const provider = toSnakeCase(name);
  const actionWords = action.split('_');
  const noun = actionWords.length > 1 ? actionWords[actionWords.length - 1]! : 'item';
  const plural = /[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`;
  const blockId = `${provider}.${action}`;
  return {
    name,
    display: displayName ?? toTitle(name),
    provider,
    action,
    blockId,
    blockName: toTitle(action, true),
    noun,
    aNoun: `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`,
    plural,
    handlerName: toPascalCase(action).replace(/^./, (c) => c.toLowerCase()),
    inputsType: `${blockTypeBaseName(blockId)}Inputs`,
    scope: `${provider}:${plural}.write`,
    env: `${provider.toUpperCase()}_API_KEY`,
    baseUrl: `https://api.${name}.example.com/v1`,
  };
}

function manifestFor(t: TemplateNames): PluginManifest {
  const stored = { id: `${t.noun}_1`, name: 'Ada Lovelace', tags: ['vip'] };
  return {
    name: t.name,
    version: '0.1.0',
    display_name: t.display,
    description: `${t.display} integration for Blockyard.`,
    entry: './src/index.js',
    icon: './icon.png',
    providers: [
      {
        name: t.provider,
        display_name: t.display,
        base_url: t.baseUrl,
        auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }],
        integration_scopes: { [t.scope]: [`${t.plural}:write`] },
        default_credential: { env: t.env, kind: 'api_key', title: `${t.display} API key of this server` },
      },
    ],
    blocks: [
      {
        id: t.blockId,
        name: t.blockName,
        description: `Creates ${t.aNoun} in ${t.display} (POST /${t.plural}) and yields it as stored.`,
        categories: [t.provider],
        kind: 'action',
        input_schema: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, description: `The ${t.noun}'s name.` },
            tags: { type: 'array', items: { type: 'string' }, default: [], description: `Labels to file the ${t.noun} under.` },
          },
        },
        output_schema: {
          type: 'object',
          properties: {
            [t.noun]: {
              type: 'object',
              required: ['id'],
              properties: { id: { type: 'string' }, name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
              description: `The ${t.noun} as ${t.display} stored it.`,
            },
          },
        },
        credentials: { provider: t.provider, kinds: ['api_key'], scopes: [t.scope] },
        timeout_ms: 30000,
        tests: [
          {
            name: `creates ${t.aNoun}`,
            inputs: { name: 'Ada Lovelace', tags: ['vip'] },
            credential: { api_key: 'test-key' },
            http: [
              {
                method: 'POST',
                url: `/${t.plural}`,
                request_body: { name: 'Ada Lovelace', tags: ['vip'] },
                status: 201,
                headers: { 'content-type': 'application/json' },
                body: stored,
              },
            ],
            outputs: { [t.noun]: [stored] },
          },
          {
            name: 'fails clearly when the API key is rejected',
            inputs: { name: 'Ada Lovelace' },
            credential: { api_key: 'wrong-key' },
            http: [{ method: 'POST', url: `/${t.plural}`, request_body: { name: 'Ada Lovelace', tags: [] }, status: 401, body: { message: 'invalid API key' } }],
            error: `${t.display} rejected the API key`,
          },
        ],
      },
    ],
  };
}

/** The version of the Blockyard packages this tooling ships with (lerna versions them together). */
function blockyardVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.1.0';
  }
}

function packageJsonFor(t: TemplateNames): object {
  const version = blockyardVersion();
  return {
    name: t.name,
    version: '0.1.0',
    description: `${t.display} integration for Blockyard.`,
    type: 'module',
    main: './src/index.js',
    exports: { '.': './src/index.js', './blockyard.plugin.json': './blockyard.plugin.json', './package.json': './package.json' },
    files: ['src', 'blockyard.plugin.json', 'icon.png', 'README.md'],
    keywords: ['blockyard-plugin'],
    scripts: {
      validate: 'blockyard plugin validate',
      typegen: 'blockyard plugin typegen',
      typecheck: 'tsc -p .',
      test: 'node --test && blockyard plugin test',
    },
    dependencies: { '@blockyard/plugin-sdk': version },
    devDependencies: { '@blockyard/cli': version, '@types/node': '^20.19.0', typescript: '~5.9.3' },
    blockyard: { manifest: './blockyard.plugin.json' },
  };
}

/** Self-contained: no `extends` into a repository, so the folder works wherever it is. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    skipLibCheck: true,
    resolveJsonModule: true,
  },
  include: ['src'],
};

function handlerSource(t: TemplateNames): string {
  return `// Handlers of the ${t.name} plugin, keyed by block id (see blockyard.plugin.json).
//
// Plain ES module JavaScript with JSDoc types: Blockyard imports this file as it is (it is the
// manifest's entry), with no build step, and it needs nothing at run time. The types come from
// @blockyard/plugin-sdk and from ./generated/blocks.ts (\`blockyard plugin typegen\`);
// \`npm run typecheck\` checks them.

/**
 * @import { BlockContext, BlockErrorResult, BlockResult, PluginHandlers } from '@blockyard/plugin-sdk'
 * @import { ${t.inputsType} } from './generated/blocks.js'
 */

/**
 * ${t.blockId}: POST /${t.plural} at the provider's base_url. context.fetch resolves the relative
 * URL and injects the API key as the provider declares (Authorization: Bearer <key>).
 *
 * @param {${t.inputsType}} inputs validated, defaults filled in
 * @param {BlockContext} context
 * @returns {Promise<BlockResult | BlockErrorResult>} the outputs, or an expected failure
 */
export async function ${t.handlerName}({ name, tags }, context) {
  const res = await context.fetch('/${t.plural}', { method: 'POST', json: { name, tags } });
  if (res.status === 401 || res.status === 403) return { error: \`${t.display} rejected the API key (\${res.status})\` };
  if (!res.ok) return { error: \`${t.display} answered \${res.status} when creating ${t.aNoun}\` };
  return { data: { ${t.noun}: res.data } };
}

/** @type {PluginHandlers} */
export const handlers = {
  '${t.blockId}': ${t.handlerName},
};
`;
}

function specSource(t: TemplateNames): string {
  return `// Unit tests of the handlers, with node:test (\`node --test\`); the manifest's self-test cases
// run with \`blockyard plugin test\`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ${t.handlerName}, handlers } from './index.js';

/** @import { BlockContext, ContextFetch, FetchRequest } from '@blockyard/plugin-sdk' */

/** @type {{ blocks: Array<{ id: string }> }} */
const manifest = JSON.parse(readFileSync(new URL('../blockyard.plugin.json', import.meta.url), 'utf8'));

/**
 * A context whose fetch records each request and answers \`response\`.
 * @param {{ status: number, data?: unknown }} response
 */
function contextFixture(response) {
  /** @type {Array<FetchRequest & { url: string }>} */
  const requests = [];
  /** @type {ContextFetch} */
  const fetch = async (url, request = {}) => {
    requests.push({ url, ...request });
    return /** @type {any} */ ({ status: response.status, ok: response.status < 300, headers: {}, data: response.data ?? '', url });
  };
  /** @type {BlockContext} */
  const context = {
    executionId: 'spec',
    blockId: '${t.blockId}',
    signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    addCost() {},
    credentials: { kind: 'api_key', api_key: 'test-key' },
    fetch,
  };
  return { context, requests };
}

test('exports one handler per block of the manifest, and no other', () => {
  assert.deepEqual(Object.keys(handlers).sort(), manifest.blocks.map((b) => b.id).sort());
});

test('${t.blockId} posts the ${t.noun} and yields it as stored', async () => {
  const stored = { id: '${t.noun}_1', name: 'Ada', tags: [] };
  const { context, requests } = contextFixture({ status: 201, data: stored });
  const result = await ${t.handlerName}({ name: 'Ada', tags: [] }, context);
  assert.deepEqual(requests, [{ url: '/${t.plural}', method: 'POST', json: { name: 'Ada', tags: [] } }]);
  assert.deepEqual(result, { data: { ${t.noun}: stored } });
});

test('${t.blockId} fails with a clear message when the API key is rejected', async () => {
  const { context } = contextFixture({ status: 401 });
  assert.deepEqual(await ${t.handlerName}({ name: 'Ada', tags: [] }, context), { error: '${t.display} rejected the API key (401)' });
});
`;
}

function readmeFor(t: TemplateNames): string {
  return `# ${t.display} — a Blockyard plugin

Blocks for ${t.display}, loaded by a Blockyard server at run time
(\`BLOCKYARD_PLUGINS=${t.name}\` or a path to this folder).

| block | what it does |
| --- | --- |
| \`${t.blockId}\` | creates ${t.aNoun} (POST /${t.plural}) and yields it as stored |

Authentication: an API key, sent as \`Authorization: Bearer <key>\`. A server can give every run
one key of its own through the \`${t.env}\` environment variable.

## Layout

\`\`\`
blockyard.plugin.json   the manifest: provider, blocks (input/output schemas, credentials), self-tests
src/index.js            the handlers, keyed by block id (the manifest's entry)
src/index.test.js       unit tests of the handlers (node --test)
src/generated/blocks.ts types of the blocks' inputs and outputs (blockyard plugin typegen)
icon.png                512×512 PNG (a placeholder: replace it)
\`\`\`

## Develop

\`\`\`sh
npx blockyard plugin validate    # manifest, schemas, names, entry, icon, self-test inputs: every problem at once
npx blockyard plugin typegen     # after changing a schema: src/generated/blocks.ts
npx blockyard plugin test        # runs the manifest's self-tests (mocked HTTP, no server)
npm test                         # node --test, then the self-tests
npm run typecheck                # tsc over the JSDoc types (after npm install)
\`\`\`

A self-test case (\`tests\` of a block in the manifest) runs the block with the real engine:
its \`inputs\`, its \`credential\` (e.g. \`{ "api_key": "x" }\`), and its \`http\` exchanges, which
answer the handler's requests in order (method, URL relative to the provider's \`base_url\`, and
\`request_body\` when given, must match). It expects \`outputs\` (compared deeply) or an
\`error\` (a substring of the failure).

The handler is plain JavaScript with JSDoc types, so Blockyard loads it without a build step.
To write TypeScript instead, rename it to \`src/index.ts\`, use \`defineBlock<${t.inputsType}>(...)\`
from \`@blockyard/plugin-sdk\`, build it to \`dist/\` and set the manifest's \`entry\` to
\`./dist/index.js\`.
`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
