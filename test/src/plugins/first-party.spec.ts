import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem, runSelfTests, validatePlugin } from '@blockyard/plugin-loader';
import { ROOT } from '../support/paths.js';

const pluginDirs = readdirSync(join(ROOT, 'plugins'))
  .map((name) => join(ROOT, 'plugins', name))
  .filter((dir) => existsSync(join(dir, 'blockyard.plugin.json')));

describe('first-party plugins, as `blockyard plugin validate` and `plugin test` see them', function () {
  this.timeout(60_000);

  it('are all there', () => {
    expect(pluginDirs.map((d) => d.split('/').pop()).sort()).to.deep.equal(['example', 'github', 'http', 'linear', 'notion', 'slack']);
  });

  for (const dir of pluginDirs) {
    const name = dir.split('/').pop();

    it(`${name}: validates with no problem`, async () => {
      const result = await validatePlugin(dir);
      expect(result.problems.map(formatProblem), name).to.deep.equal([]);
    });

    it(`${name}: passes every self-test case of its manifest`, async () => {
      const report = await runSelfTests(dir);
      const failures = report.results.filter((r) => !r.ok).map((r) => `${r.blockId}: ${r.name}: ${r.reason}`);
      expect(failures, name).to.deep.equal([]);
      const manifest = JSON.parse(readFileSync(join(dir, 'blockyard.plugin.json'), 'utf8')) as { blocks: Array<{ id: string; kind?: string; tests?: unknown[] }> };
      const untested = manifest.blocks.filter((b) => b.kind !== 'trigger' && !(b.tests ?? []).length).map((b) => b.id);
      expect(untested, `${name}: actions without a self-test`).to.deep.equal([]);
      expect(report.passed, `${name} has self-tests`).to.be.greaterThan(0);
    });
  }
});
