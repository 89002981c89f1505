import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { makeDataDir, removeDataDir } from './support/server-process.js';
import { runBlockyard } from './support/cli.js';
import { spawn } from 'node:child_process';
import { CLI_BIN, ROOT } from './support/paths.js';

function queryAll(file: string, sql: string): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, (e, rows) => {
        db.close();
        if (e) reject(e);
        else resolve(rows as Array<Record<string, unknown>>);
      });
    });
  });
}

describe('blockyard CLI', function () {
  this.timeout(60_000);
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dataDir = makeDataDir();
    env = { BLOCKYARD_DATA_DIR: dataDir };
  });
  afterEach(() => removeDataDir(dataDir));

  describe('keys create', () => {
    it('prints the key alone on the last line and stores only its hash', async () => {
      const result = await runBlockyard(['keys', 'create', '--scopes', 'READ_BLOCK,EXECUTE_BLOCK', '--name', 'ci'], env);
      expect(result.code, result.stderr).to.equal(0);
      const secret = result.stdout.trimEnd().split('\n').pop()!;
      expect(secret).to.match(/^byk_[A-Za-z0-9_-]{43}$/);
      const rows = await queryAll(join(dataDir, 'blockyard.sqlite'), 'select * from api_keys');
      expect(rows).to.have.length(1);
      const stored = JSON.stringify(rows);
      expect(stored).not.to.contain(secret);
      expect(stored).not.to.contain(secret.slice(12));
      expect(stored).to.contain(createHash('sha256').update(secret).digest('hex'));
    });

    it('rejects an unknown scope with exit code 2, creating nothing', async () => {
      const result = await runBlockyard(['keys', 'create', '--scopes', 'READ_BLOCK,FLY'], env);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('unknown scope(s): FLY');
      const list = await runBlockyard(['keys', 'list', '--json'], env);
      expect(JSON.parse(list.stdout)).to.deep.equal([]);
    });

    it('creates the key for the user --user names, and refuses an unknown email (exit 1, nothing created)', async () => {
      for (const [email, name] of [['alice@example.com', 'Alice'], ['Bob@Example.com', 'Bob']]) {
        const made = await runBlockyard(['users', 'create', '--email', email!, '--name', name!], env);
        expect(made.code, made.stderr).to.equal(0);
      }
      const result = await runBlockyard(['keys', 'create', '--scopes', 'READ_BLOCK', '--user', 'bob@example.com'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain('for bob@example.com with scopes READ_BLOCK');
      const unknown = await runBlockyard(['keys', 'create', '--scopes', 'READ_BLOCK', '--user', 'nobody@example.com'], env);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('no user with email nobody@example.com (see: blockyard users create)');
      // The default user (the first, Alice) got none of them.
      expect(JSON.parse((await runBlockyard(['keys', 'list', '--json'], env)).stdout)).to.deep.equal([]);
    });

    it('requires --scopes', async () => {
      const result = await runBlockyard(['keys', 'create'], env);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain("required option '--scopes <list>'");
    });
  });

  describe('keys list and revoke', () => {
    it('lists keys without secrets and shows a revoked key as revoked', async () => {
      const created = await runBlockyard(['keys', 'create', '--scopes', 'READ_BLOCK'], env);
      const secret = created.stdout.trimEnd().split('\n').pop()!;
      const listed = JSON.parse((await runBlockyard(['keys', 'list', '--json'], env)).stdout) as Array<Record<string, string>>;
      expect(listed).to.have.length(1);
      expect(JSON.stringify(listed)).not.to.contain(secret);
      expect(listed[0]).to.include({ status: 'active', scopes: 'READ_BLOCK' });
      const revoked = await runBlockyard(['keys', 'revoke', listed[0]!.id!], env);
      expect(revoked.code).to.equal(0);
      const after = JSON.parse((await runBlockyard(['keys', 'list', '--json'], env)).stdout) as Array<Record<string, string>>;
      expect(after[0]!.status).to.equal('revoked');
    });

    it('answers an unknown key id with exit code 1 and a clear message', async () => {
      const result = await runBlockyard(['keys', 'revoke', 'no-such-key'], env);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('API key no-such-key not found');
    });
  });

  describe('blocks list', () => {
    it('lists the example plugin blocks', async () => {
      const result = await runBlockyard(['blocks', 'list'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain('example.echo').and.to.contain('example.sleep');
    });
  });

  describe('run', () => {
    it('runs a block in-process and prints its outputs', async () => {
      const result = await runBlockyard(['run', 'example.echo', '--input', '{"text":"from the cli"}'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.equal({ status: 'completed', outputs: { text: ['from the cli'] }, error: null, cost_usd: 0 });
    });

    it('exits 2 on input that is not JSON', async () => {
      const result = await runBlockyard(['run', 'example.echo', '--input', '{text'], env);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('--input is not valid JSON');
    });

    it('exits 1 with the failing path on invalid inputs', async () => {
      const result = await runBlockyard(['run', 'example.echo', '--input', '{"text":1}'], env);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('/text: must be string');
    });

    it('exits 1 for an unknown block', async () => {
      const result = await runBlockyard(['run', 'nope.nothing'], env);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('block nope.nothing not found');
    });
  });

  describe('serve', () => {
    it('runs the server until SIGTERM', async () => {
      const child = spawn(process.execPath, [CLI_BIN, 'serve'], { cwd: ROOT, env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"url":"(http:[^"]+)"/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const res = await fetch(`${url}/healthz`);
      expect(res.status).to.equal(200);
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
      expect(code).to.equal(0);
    });
  });
});
