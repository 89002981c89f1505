import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The signing key file in the data dir: a JWKS with private keys, mode 0600. */
export const SIGNING_KEYS_FILE_NAME = 'oauth-signing-keys.json';

/** A private JSON Web Key as oidc-provider takes it. */
export type PrivateJwk = Record<string, unknown> & { kty: string; kid?: string; d: string };

/** What the authorization server signs with: ID tokens (the JWKS) and its cookies (keys derived from the first JWK). */
export interface OAuthServerKeys {
  readonly jwks: { keys: PrivateJwk[] };
  readonly cookieKeys: string[];
}

/** Bad signing keys (configured or on disk): never their material in the message. */
export class SigningKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeysError';
  }
}

export interface LoadSigningKeysOptions {
  /** BLOCKYARD_OAUTH_SIGNING_KEYS: a JWKS (JSON) of private keys; when set it wins over the key file. */
  readonly configured?: string | undefined;
  readonly dataDir: string;
  readonly logger?: { info(msg: string, fields?: object): void };
}

/**
 * The configured JWKS, else the one in `<dataDir>/oauth-signing-keys.json`, generated there
 * (one RSA 2048 key for RS256, file mode 0600) on first start, like the encryption key. Every
 * process serving /oauth must use the same keys (share the data dir or set the variable).
 */
export async function loadOrCreateSigningKeys(options: LoadSigningKeysOptions): Promise<OAuthServerKeys> {
  if (options.configured !== undefined) return parseSigningKeys(options.configured, 'BLOCKYARD_OAUTH_SIGNING_KEYS');
  const path = join(options.dataDir, SIGNING_KEYS_FILE_NAME);
  const existing = await readKeysFile(path);
  if (existing) return existing;
  if (await createKeysFile(options.dataDir, path)) {
    options.logger?.info('generated an OAuth signing key; keep it with the data dir (tokens signed with it cannot be verified without it)', { path });
  }
  const created = await readKeysFile(path);
  if (!created) throw new SigningKeysError(`OAuth signing key file ${path} disappeared while it was being created`);
  return created;
}

/** Parses a JWKS of private signing keys; `source` names where it came from in errors. */
export function parseSigningKeys(raw: string, source: string): OAuthServerKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SigningKeysError(`${source} is not JSON: it must be a JWKS, {"keys":[...]}, of private keys`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SigningKeysError(`${source} must be a JWKS with at least one key: {"keys":[...]}`);
  keys.forEach((key, i) => {
    const k = key as Record<string, unknown>;
    if (!k || typeof k !== 'object' || (k.kty !== 'RSA' && k.kty !== 'EC' && k.kty !== 'OKP')) throw new SigningKeysError(`${source}: key ${i} must be an RSA, EC or OKP JWK`);
    if (typeof k.d !== 'string' || !k.d) throw new SigningKeysError(`${source}: key ${i} has no private part (d); the server needs private keys to sign`);
  });
  const first = keys[0] as PrivateJwk;
  return {
    jwks: { keys: keys as PrivateJwk[] },
    // Cookie signing keys derived from the first private key, so one setting covers both.
    cookieKeys: [createHmac('sha256', first.d).update('blockyard oauth cookie key v1').digest('base64url')],
  };
}

/** A new private RSA 2048 JWK for RS256, with a random kid. */
export function generateSigningKey(): PrivateJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as PrivateJwk;
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

async function readKeysFile(path: string): Promise<OAuthServerKeys | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new SigningKeysError(
      `OAuth signing key file ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}, so other users may read it; ` +
        `run "chmod 600 ${path}" (or set BLOCKYARD_OAUTH_SIGNING_KEYS)`,
    );
  }
  return parseSigningKeys(await readFile(path, 'utf8'), `OAuth signing key file ${path}`);
}

/** Creates the file atomically (complete or absent); false if it already existed. */
async function createKeysFile(dataDir: string, path: string): Promise<boolean> {
  const firstCreated = await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (firstCreated !== undefined) await chmod(dataDir, 0o700);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${JSON.stringify({ keys: [generateSigningKey()] })}\n`, 'utf8');
    await handle.sync();
  } finally {
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
