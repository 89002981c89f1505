import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaffoldPlugin } from '@blockyard/plugin-loader';
import { runCli } from './program.js';

/** Runs the CLI in this process, collecting what it writes. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out, err };
}

describe('plugin commands', function () {
  this.timeout(20_000);
  let tmp: string;
  let plugin: string;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'blockyard-plugin-commands-'));
    plugin = (await scaffoldPlugin({ name: 'demo', dir: join(tmp, 'demo') })).dir;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('plugin validate', () => {
    it('exits 0 with one OK line on stdout', async () => {
      const result = await cli('plugin', 'validate', plugin);
      expect(result).to.deep.include({ code: 0, err: [] });
      expect(result.out).to.have.length(1);
      expect(result.out[0]).to.match(/^✓ demo 0\.1\.0 \(.*demo\) is valid: 1 block, 1 provider, 2 self-tests$/);
    });

    it('exits 1 with each problem, then a count, on stderr', async () => {
      const dir = join(tmp, 'bad');
      rmSync(dir, { recursive: true, force: true });
      await scaffoldPlugin({ name: 'bad', dir });
      writeFileSync(join(dir, 'icon.png'), 'not a png');
      const result = await cli('plugin', 'validate', dir);
      expect(result.code).to.equal(1);
      expect(result.out).to.deep.equal([]);
      expect(result.err).to.have.length(2);
      expect(result.err[0]).to.equal('/icon: ./icon.png is not a PNG');
      expect(result.err[1]).to.match(/^blockyard: .*blockyard\.plugin\.json: 1 problem$/);
    });
  });

  describe('plugin test', () => {
    it('prints one line per case and a summary', async () => {
      const result = await cli('plugin', 'test', plugin);
      expect(result).to.deep.include({ code: 0, err: [] });
      expect(result.out).to.deep.equal(['✓ demo.create_item: creates an item', '✓ demo.create_item: fails clearly when the API key is rejected', '2 passed, 0 failed (demo)']);
    });

    it('refuses a --timeout that is not a positive integer with exit code 2', async () => {
      const result = await cli('plugin', 'test', plugin, '--timeout', '0');
      expect(result.code).to.equal(2);
      expect(result.err.join('\n')).to.contain("option '--timeout <ms>' argument '0' is invalid. must be a positive integer");
    });
  });

  describe('bad usage', () => {
    it('exits 2 with one message and no help for a bad plugin name', async () => {
      expect(await cli('plugin', 'new', 'Not_Kebab', '--dir', join(tmp, 'x'))).to.deep.equal({ code: 2, out: [], err: ['blockyard: plugin name "Not_Kebab" must be kebab-case, e.g. not-kebab'] });
    });

    it('exits 2 with one message for an import of a folder without config.json', async () => {
      expect(await cli('plugin', 'import', tmp)).to.deep.equal({ code: 2, out: [], err: [`blockyard: ${tmp} has no Autohive config.json`] });
    });

    it('exits 1 when typegen meets a manifest that fails its schema', async () => {
      const dir = join(tmp, 'schema-broken');
      await scaffoldPlugin({ name: 'schema-broken', dir });
      writeFileSync(join(dir, 'blockyard.plugin.json'), JSON.stringify({ name: 'x', version: '1.0.0', entry: './src/index.js', blocks: [{ id: 'x.y' }] }));
      const result = await cli('plugin', 'typegen', dir);
      expect(result.code).to.equal(1);
      expect(result.err).to.have.length(1);
      expect(result.err[0]).to.match(/^blockyard: invalid manifest .*: \/blocks\/0\/name: is required; /);
    });
  });
});
