#!/usr/bin/env node
// Generates src/generated/openapi.ts, the TypeScript types of the Blockyard API (paths,
// operations, components), from the OpenAPI document @blockyard/contracts builds
// (contracts/dist/openapi.json, written by scripts/generate-openapi.mjs) with openapi-typescript.
// Leaves the file alone when its content is unchanged, so that `tsc -b` has nothing to redo.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, oapiRef, tsUnion } from 'openapi-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = fileURLToPath(import.meta.resolve('@blockyard/contracts/openapi.json'));
const target = join(root, 'src', 'generated', 'openapi.ts');

const document = JSON.parse(readFileSync(source, 'utf8'));
// emptyObjectsUnknown: `{ type: object }` (inputs, outputs) is Record<string, unknown>, not Record<string, never>;
// defaultNonNullable off: a property with a default (client_type) stays optional in a request body.
const ast = await openapiTS(document, { emptyObjectsUnknown: true, defaultNonNullable: false, transform: discriminatedIfThen });
/**
 * The contracts pick a variant by a discriminator with `allOf: [{ if: { properties: { kind:
 * { const: 'a' } } }, then: { $ref: A } }, ...]` (agent nodes), which openapi-typescript cannot
 * express. When every branch is such an if/then on one const property, the value is exactly one
 * of the `then`s: the type is their union.
 */
function discriminatedIfThen(schema) {
  const branches = schema.allOf;
  if (!Array.isArray(branches) || branches.length < 2) return undefined;
  const isBranch = (b) => b && b.then?.$ref && b.else === undefined && Object.keys(b).length === 2 && b.if?.properties && Object.values(b.if.properties).length === 1 && 'const' in Object.values(b.if.properties)[0];
  if (!branches.every(isBranch)) return undefined;
  return tsUnion(branches.map((b) => oapiRef(b.then.$ref)));
}

const banner = '/* Generated from the Blockyard OpenAPI document (contracts/) by openapi-typescript. Do not edit. */\n';
const text = banner + astToString(ast);
if (existsSync(target) && readFileSync(target, 'utf8') === text) process.exit(0);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, text);
console.log('client: generated src/generated/openapi.ts');
