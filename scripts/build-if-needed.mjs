#!/usr/bin/env node
// `npm start` runs this first: builds when the compiled server is missing or older than a source.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const target = join(root, 'apps/server/dist/main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = ['contracts', 'core', 'adapters', 'plugins', 'apps'].map((d) => join(root, d));
const stale = !existsSync(target) || Math.max(...sources.map(newestSource)) > statSync(target).mtimeMs;
if (stale) {
  console.error('blockyard: building (first start or sources changed) ...');
  execSync('npm run build', { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
