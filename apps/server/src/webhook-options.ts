import { ConfigError, type ServerConfig } from './config.js';

/** Default largest inbound webhook delivery: 1 MiB. */
export const DEFAULT_WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/** BLOCKYARD_PUBLIC_URL (default http://HOST:PORT), without a trailing slash: where providers and browsers reach this server. */
export function publicUrlOf(config: ServerConfig): string {
  return (config.env.BLOCKYARD_PUBLIC_URL?.trim() || `http://${config.host}:${config.port}`).replace(/\/+$/, '');
}

/**
 * Inbound webhooks from the environment: the public URL webhooks are registered with
 * (`<BLOCKYARD_PUBLIC_URL>/webhooks/:provider/:id`) and BLOCKYARD_WEBHOOK_BODY_LIMIT_BYTES, the
 * largest delivery accepted (default 1 MiB; larger ones answer 413).
 */
export function webhookOptionsFromConfig(config: ServerConfig): { publicUrl: string; bodyLimitBytes: number } {
  const raw = config.env.BLOCKYARD_WEBHOOK_BODY_LIMIT_BYTES?.trim();
  let bodyLimitBytes = DEFAULT_WEBHOOK_BODY_LIMIT_BYTES;
  if (raw) {
    if (!/^\d+$/.test(raw) || Number(raw) < 1024 || Number(raw) > 100 * 1024 * 1024) {
      throw new ConfigError([`BLOCKYARD_WEBHOOK_BODY_LIMIT_BYTES must be an integer from 1024 to 104857600 (got ${JSON.stringify(raw)})`]);
    }
    bodyLimitBytes = Number(raw);
  }
  return { publicUrl: publicUrlOf(config), bodyLimitBytes };
}
