import { parseSigningKeys, SigningKeysError, type OAuthServerTtl } from '@blockyard/oauth-server';
import { ConfigError, type ServerConfig } from './config.js';

export interface OAuthServerConfig {
  /** BLOCKYARD_OAUTH_SIGNING_KEYS (a JWKS of private keys), or undefined for the key file in the data dir. */
  signingKeys: string | undefined;
  ttl: OAuthServerTtl;
}

/**
 * The authorization server's settings from the environment: BLOCKYARD_OAUTH_SIGNING_KEYS, and
 * BLOCKYARD_OAUTH_CODE_TTL_SECONDS (default 60, at most 600), BLOCKYARD_OAUTH_ACCESS_TOKEN_TTL_SECONDS
 * (default 3600), BLOCKYARD_OAUTH_REFRESH_TOKEN_TTL_SECONDS (default 30 days). Every problem at once.
 */
export function oauthServerOptionsFromConfig(config: ServerConfig): OAuthServerConfig {
  const { env } = config;
  const problems: string[] = [];
  const seconds = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return undefined;
    }
    return Number(raw);
  };
  const ttl: OAuthServerTtl = {
    authorizationCodeSeconds: seconds('BLOCKYARD_OAUTH_CODE_TTL_SECONDS', 1, 600),
    accessTokenSeconds: seconds('BLOCKYARD_OAUTH_ACCESS_TOKEN_TTL_SECONDS', 1, 86_400),
    refreshTokenSeconds: seconds('BLOCKYARD_OAUTH_REFRESH_TOKEN_TTL_SECONDS', 60, 365 * 86_400),
  };
  const signingKeys = env.BLOCKYARD_OAUTH_SIGNING_KEYS?.trim() || undefined;
  if (signingKeys) {
    try {
      parseSigningKeys(signingKeys, 'BLOCKYARD_OAUTH_SIGNING_KEYS');
    } catch (e) {
      if (!(e instanceof SigningKeysError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { signingKeys, ttl };
}
