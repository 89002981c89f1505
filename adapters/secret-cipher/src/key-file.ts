import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyRingError } from './errors.js';
import { KEY_BYTES, KeyRing, formatKey, newKeyId } from './key-ring.js';

/** The key file in the data dir, in the BLOCKYARD_ENCRYPTION_KEYS format. */
export const KEY_FILE_NAME = 'encryption.keys';

export interface LoadKeyRingOptions {
  /** The BLOCKYARD_ENCRYPTION_KEYS value; when set (even empty) it wins over the key file. */
  readonly configured?: string | undefined;
  readonly dataDir: string;
  readonly logger?: { info(msg: string, fields?: object): void };
}

/**
 * The configured key ring, else the one in `<dataDir>/encryption.keys`, generated there (one
 * random key, file mode 0600, dir 0700) on first use. A key file group or others can read or
 * write is refused.
 */
export async function loadOrCreateKeyRing(options: LoadKeyRingOptions): Promise<KeyRing> {
  if (options.configured !== undefined) return KeyRing.parse(options.configured, 'BLOCKYARD_ENCRYPTION_KEYS');
  const path = join(options.dataDir, KEY_FILE_NAME);
  const existing = await readKeyFile(path);
  if (existing !== undefined) return existing;
  if (await createKeyFile(options.dataDir, path)) {
    options.logger?.info('generated an encryption key for credential secrets; back it up, secrets are unreadable without it', { path });
  }
  // Read back what is on disk: if another process won the race, its key is the one to use.
  const created = await readKeyFile(path);
  if (created === undefined) throw new KeyRingError(`encryption key file ${path} disappeared while it was being created`);
  return created;
}

async function readKeyFile(path: string): Promise<KeyRing | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeyRingError(
      `encryption key file ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}, ` +
        `so other users may read it; run "chmod 600 ${path}" (or set BLOCKYARD_ENCRYPTION_KEYS)`,
    );
  }
  return KeyRing.parse(await readFile(path, 'utf8'), `encryption key file ${path}`);
}

/** Creates the key file atomically (complete or absent); false if it already existed. */
async function createKeyFile(dataDir: string, path: string): Promise<boolean> {
  const firstCreated = await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (firstCreated !== undefined) await chmod(dataDir, 0o700);
  const key = randomBytes(KEY_BYTES);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(`${formatKey(newKeyId(), key)}\n`, 'utf8');
    await handle.sync();
  } finally {
    key.fill(0);
    await handle.close();
  }
  try {
    await link(temporary, path); // fails if the file exists: never overwrite a key
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
}
