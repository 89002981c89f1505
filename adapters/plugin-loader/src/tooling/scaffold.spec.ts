import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPngSize } from './png.js';
import { scaffoldPlugin, ScaffoldError } from './scaffold.js';
import { runSelfTests } from './self-test.js';
import { validatePlugin } from './validate-plugin.js';
import { removeFixtures, tempDirFixture } from './tooling.fixtures.js';

async function scaffoldError(options: Parameters<typeof scaffoldPlugin>[0]): Promise<ScaffoldError> {
  try {
    await scaffoldPlugin(options);
  } catch (e) {
    return e as ScaffoldError;
  }
  throw new Error('expected a ScaffoldError');
}

describe('scaffoldPlugin', function () {
  this.timeout(20_000);
  after(removeFixtures);
  let dir: string;

  before(async () => {
    dir = join(tempDirFixture(), 'acme-crm');
    const result = await scaffoldPlugin({ name: 'acme-crm', dir, action: 'create_contact' });
    expect(result.files).to.deep.equal([
      '.gitignore',
      'README.md',
      'blockyard.plugin.json',
      'icon.png',
      'package.json',
      'src/generated/blocks.ts',
      'src/index.js',
      'src/index.test.js',
      'tsconfig.json',
    ]);
  });

  it('writes a manifest with one provider and one snake_case action block', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'blockyard.plugin.json'), 'utf8'));
    expect(manifest).to.include({ name: 'acme-crm', entry: './src/index.js', icon: './icon.png' });
    expect(manifest.providers.map((p: { name: string }) => p.name)).to.deep.equal(['acme_crm']);
    expect(manifest.blocks.map((b: { id: string }) => b.id)).to.deep.equal(['acme_crm.create_contact']);
    expect(manifest.blocks[0].tests).to.have.length(2);
  });

  it('passes validate as generated', async () => {
    const result = await validatePlugin(dir);
    expect(result.problems).to.deep.equal([]);
  });

  it('passes its self-tests as generated', async () => {
    const report = await runSelfTests(dir);
    expect(report.results.map((r) => [r.name, r.reason])).to.deep.equal([
      ['creates a contact', null],
      ['fails clearly when the API key is rejected', null],
    ]);
  });

  it('has a unit spec that passes with node --test, needing no installed package', () => {
    expect(existsSync(join(dir, 'node_modules'))).to.equal(false);
    const run = spawnSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.match(/# pass 3\b/);
  });

  it('depends on the SDK, with a tsconfig of its own', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.dependencies).to.have.property('@blockyard/plugin-sdk');
    expect(pkg).to.include({ name: 'acme-crm', type: 'module' });
    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
    expect(tsconfig).not.to.have.property('extends');
    expect(tsconfig.compilerOptions).to.include({ allowJs: true, checkJs: true, moduleResolution: 'NodeNext' });
  });

  it('writes a 512×512 PNG icon, the generated types and a README', () => {
    expect(readPngSize(readFileSync(join(dir, 'icon.png')))).to.deep.equal({ width: 512, height: 512 });
    expect(readFileSync(join(dir, 'src/generated/blocks.ts'), 'utf8')).to.contain('export interface AcmeCrmCreateContactInputs');
    expect(readFileSync(join(dir, 'src/index.js'), 'utf8')).to.contain('@param {AcmeCrmCreateContactInputs} inputs');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).to.contain('`acme_crm.create_contact`');
  });

  it('defaults to ./<name> and the create_item action', async () => {
    const cwd = process.cwd();
    process.chdir(tempDirFixture());
    try {
      const result = await scaffoldPlugin({ name: 'beta' });
      expect(result.dir).to.equal(join(process.cwd(), 'beta'));
      expect(result.manifest.blocks[0]!.id).to.equal('beta.create_item');
      expect((await validatePlugin(result.dir)).problems).to.deep.equal([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses names that are not kebab-case, actions that are not snake_case, and folder names that validate would refuse', async () => {
    const base = tempDirFixture();
    expect(await scaffoldError({ name: 'AcmeCrm', dir: join(base, 'x') })).to.include({ kind: 'usage', message: 'plugin name "AcmeCrm" must be kebab-case, e.g. acme-crm' });
    expect(await scaffoldError({ name: 'acme', action: 'createContact', dir: join(base, 'x') })).to.include({ kind: 'usage', message: 'action "createContact" must be snake_case, e.g. create_contact' });
    expect(await scaffoldError({ name: 'acme', dir: join(base, 'My_Plugin') })).to.include({ kind: 'usage' });
  });

  it('refuses to write into a folder that is not empty', async () => {
    const target = join(tempDirFixture(), 'taken');
    await scaffoldPlugin({ name: 'taken', dir: target });
    writeFileSync(join(target, 'blockyard.plugin.json'), '{}');
    const error = await scaffoldError({ name: 'taken', dir: target });
    expect(error).to.include({ kind: 'conflict', message: `${target} is not empty; refusing to overwrite it` });
    expect(readFileSync(join(target, 'blockyard.plugin.json'), 'utf8')).to.equal('{}');
  });
});
