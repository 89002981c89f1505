import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AesGcmSecretCipher, KEY_FILE_NAME, KeyRingError, loadOrCreateKeyRing } from './index.js';

describe('loadOrCreateKeyRing', () => {
  let root: string;
  let logs: { msg: string; fields?: object }[];
  const logger = { info: (msg: string, fields?: object) => void logs.push({ msg, fields }) };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'blockyard-secret-cipher-'));
    logs = [];
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection, it resolved');
  }

  it('creates the data dir (0700) and a key file (0600) with one fresh key, logging the path once', async () => {
    const dataDir = join(root, 'nested', 'data');
    const ring = await loadOrCreateKeyRing({ dataDir, logger });
    const path = join(dataDir, KEY_FILE_NAME);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect((await stat(dataDir)).mode & 0o777).to.equal(0o700);
    expect(ring.keyIds).to.have.length(1);
    expect(ring.activeKeyId).to.match(/^k-\d{8}-[0-9a-f]{6}$/);
    const content = await readFile(path, 'utf8');
    expect(content).to.match(new RegExp(`^${ring.activeKeyId}:[A-Za-z0-9+/]{43}=\\n$`));
    expect(logs).to.have.length(1);
    expect(logs[0]!.fields).to.deep.equal({ path });
    const key = content.trim().split(':')[1]!;
    expect(JSON.stringify(logs)).not.to.contain(key);
    expect(JSON.stringify(logs)).not.to.contain(key.slice(0, 12));
  });

  it('reuses the key file on the second call (same key) without logging again', async () => {
    const first = new AesGcmSecretCipher(await loadOrCreateKeyRing({ dataDir: root, logger }));
    const sealed = first.encrypt('kept across restarts', 'cred-1');
    const second = new AesGcmSecretCipher(await loadOrCreateKeyRing({ dataDir: root, logger }));
    expect(second.activeKeyId).to.equal(first.activeKeyId);
    expect(second.decrypt(sealed, 'cred-1')).to.equal('kept across restarts');
    expect(logs).to.have.length(1);
  });

  it('agrees on one key when several callers create it at once', async () => {
    const rings = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyRing({ dataDir: root, logger })));
    expect(new Set(rings.map((ring) => ring.activeKeyId)).size).to.equal(1);
    expect(logs).to.have.length(1);
    const sealed = new AesGcmSecretCipher(rings[0]!).encrypt('x');
    for (const ring of rings) expect(new AesGcmSecretCipher(ring).decrypt(sealed)).to.equal('x');
  });

  for (const mode of [0o644, 0o640, 0o604]) {
    it(`refuses a key file with mode ${mode.toString(8)}, without printing the key`, async () => {
      await loadOrCreateKeyRing({ dataDir: root });
      const path = join(root, KEY_FILE_NAME);
      await chmod(path, mode);
      const error = await rejection(loadOrCreateKeyRing({ dataDir: root }));
      expect(error).to.be.instanceOf(KeyRingError);
      expect(error.message).to.contain(path).and.to.contain(`0${mode.toString(8)}`).and.to.contain('chmod 600');
      const key = (await readFile(path, 'utf8')).trim().split(':')[1]!;
      expect(error.message).not.to.contain(key.slice(0, 12));
    });
  }

  it('refuses a malformed key file, naming it but not its content', async () => {
    const path = join(root, KEY_FILE_NAME);
    const short = randomBytes(31).toString('base64');
    await writeFile(path, `k1:${short}\n`, { mode: 0o600 });
    const error = await rejection(loadOrCreateKeyRing({ dataDir: root }));
    expect(error).to.be.instanceOf(KeyRingError);
    expect(error.message).to.contain(path).and.to.contain('key id "k1"').and.to.contain('31 bytes');
    expect(error.message).not.to.contain(short.slice(0, 12));
  });

  it('uses the configured value over the key file, and creates no file', async () => {
    const key = randomBytes(32).toString('base64');
    const ring = await loadOrCreateKeyRing({ configured: `env-key:${key}`, dataDir: root, logger });
    expect(ring.keyIds).to.deep.equal(['env-key']);
    expect(logs).to.deep.equal([]);
    const missing = await rejection(stat(join(root, KEY_FILE_NAME)));
    expect((missing as NodeJS.ErrnoException).code).to.equal('ENOENT');
  });

  it('uses the configured value even when a key file exists', async () => {
    const fromFile = await loadOrCreateKeyRing({ dataDir: root });
    const ring = await loadOrCreateKeyRing({ configured: `env-key:${randomBytes(32).toString('base64')}`, dataDir: root });
    expect(ring.activeKeyId).to.equal('env-key');
    expect(ring.has(fromFile.activeKeyId)).to.equal(false);
  });

  it('rejects a configured but invalid value instead of falling back to the file', async () => {
    await loadOrCreateKeyRing({ dataDir: root });
    for (const configured of ['', `k1:${randomBytes(31).toString('base64')}`]) {
      const error = await rejection(loadOrCreateKeyRing({ configured, dataDir: root }));
      expect(error).to.be.instanceOf(KeyRingError);
      expect(error.message).to.contain('BLOCKYARD_ENCRYPTION_KEYS');
    }
  });
});
