#!/usr/bin/env node
// Writes contracts/dist/openapi.json, the OpenAPI 3.1 document of the HTTP API, from the
// compiled contracts (route catalogue + JSON Schemas) and core's OAuth scopes: the same
// document GET /openapi.json serves. `npm run generate` builds contracts and core first.
// Leaves the file alone when its content is unchanged.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '@blockyard/contracts';
import { OAUTH_SCOPE_DESCRIPTIONS } from '@blockyard/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'contracts', 'dist', 'openapi.json');
const text = `${JSON.stringify(buildOpenApiDocument({ scopes: OAUTH_SCOPE_DESCRIPTIONS }), null, 2)}\n`;
if (existsSync(target) && readFileSync(target, 'utf8') === text) process.exit(0);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, text);
console.log(`contracts: wrote ${target.slice(root.length + 1)}`);
