#!/usr/bin/env node
// Generates contracts/src/generated/ from contracts/schemas/*.schema.json:
//   types.ts   - TypeScript types, compiled by json-schema-to-typescript (never edit by hand)
//   schemas.ts - the schemas themselves as constants, for ajv at run time
// Skips work when no schema is newer than the generated files.
import { readdirSync, readFileSync, mkdirSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'schemas');
const outDir = join(root, 'src', 'generated');
const files = readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).sort();
const self = fileURLToPath(import.meta.url);

const newest = Math.max(statSync(self).mtimeMs, ...files.map((f) => statSync(join(schemaDir, f)).mtimeMs));
const outputs = [join(outDir, 'types.ts'), join(outDir, 'schemas.ts')];
if (outputs.every((o) => existsSync(o) && statSync(o).mtimeMs >= newest)) process.exit(0);

const schemas = files.map((file) => ({ file, schema: JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) }));
const titleOf = new Map(schemas.map(({ file, schema }) => {
  if (schema.$id !== file) throw new Error(`${file}: $id must be "${file}"`);
  if (!schema.title) throw new Error(`${file}: a title is required (it names the generated type)`);
  return [file, schema.title];
}));

// One root schema whose definitions are all the files, with cross-file $refs rewritten to
// local ones, so each type is emitted exactly once.
const rewrite = (node) => {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && titleOf.has(v)) out[k] = `#/definitions/${titleOf.get(v)}`;
      else if (k === '$id') continue;
      else out[k] = rewrite(v);
    }
    return out;
  }
  return node;
};
const definitions = Object.fromEntries(schemas.map(({ file, schema }) => [titleOf.get(file), rewrite(schema)]));
const ts = await compile(
  { title: 'BlockyardContracts', type: 'object', additionalProperties: false, properties: {}, definitions },
  'BlockyardContracts',
  { bannerComment: '/* Generated from contracts/schemas by json-schema-to-typescript. Do not edit. */', unreachableDefinitions: true, additionalProperties: false, format: true },
);

const consts = schemas.map(({ file, schema }) => {
  const name = titleOf.get(file).replace(/^./, (c) => c.toLowerCase()) + 'Schema';
  return `export const ${name} = ${JSON.stringify(schema, null, 2)} as const;\n`;
});
const all = `export const allSchemas = [${schemas.map(({ file }) => titleOf.get(file).replace(/^./, (c) => c.toLowerCase()) + 'Schema').join(', ')}] as const;\n`;

mkdirSync(outDir, { recursive: true });
writeFileSync(outputs[0], ts.replace(/export interface BlockyardContracts \{\}\n?/, ''));
writeFileSync(outputs[1], `/* Generated from contracts/schemas. Do not edit. */\n${consts.join('\n')}\n${all}`);
console.log(`contracts: generated types for ${files.length} schemas`);
