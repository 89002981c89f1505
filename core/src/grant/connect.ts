import type { ProviderDefinition } from '@blockyard/contracts';
import { DomainError, type DomainErrorKind } from '../errors/domain.errors.js';
import type { OAuthClient } from '../oauth-client/oauth-client.js';

/** The `error` of a failed connect (OAuth 2.0's codes): what the app is told. */
export type ConnectErrorCode = 'invalid_client' | 'invalid_request' | 'invalid_scope' | 'access_denied' | 'server_error';

const KIND_OF: Record<ConnectErrorCode, DomainErrorKind> = {
  invalid_client: 'invalid_input',
  invalid_request: 'invalid_input',
  invalid_scope: 'invalid_input',
  access_denied: 'forbidden',
  server_error: 'unexpected',
};

/**
 * A connect request that cannot go on. `origin` is where the failure may be posted: the
 * request's `redirect_origin` once it is known to be one of the client's redirect URIs' origins;
 * null before that (an unknown client, an unregistered origin), when nothing may be posted and
 * only the user sees the error, as RFC 6749 §4.1.2.1 asks for a bad client or redirect URI.
 */
export class ConnectError extends DomainError {
  constructor(
    readonly error: ConnectErrorCode,
    message: string,
    readonly origin: string | null,
    readonly nonce: string | null,
  ) {
    super(KIND_OF[error], message);
  }
}

/** A checked connect request: an active client, a verified origin, a provider and its integration scopes. */
export interface ConnectRequest {
  readonly client: OAuthClient;
  readonly provider: ProviderDefinition;
  /** Integration scopes of the provider, in the order asked. */
  readonly scopes: readonly string[];
  readonly nonce: string;
  /** One of the client's redirect URIs' origins: the only place results are posted to. */
  readonly redirectOrigin: string;
}

/** What an app sends to /connect/:provider (the query), unchecked. */
export interface ConnectQuery {
  provider: string;
  clientId?: string | null;
  scopes?: string | null;
  nonce?: string | null;
  redirectOrigin?: string | null;
}

/** The message posted to the opener (`window.opener.postMessage(message, redirectOrigin)`). */
export type ConnectResultMessage =
  | { type: string; success: true; grant_id: string; credential_id: string; provider: string; nonce: string }
  | { type: string; success: false; error: ConnectErrorCode; error_description: string; provider: string; nonce: string | null };

/** The message type Blockyard posts (the guide's `autogpt_connect_result`, renamed). */
export const CONNECT_RESULT_TYPE = 'blockyard_connect_result';

/** The origin (`scheme://host[:port]`) of each redirect URI, once each. */
export function redirectOrigins(client: Pick<OAuthClient, 'redirectUris'>): string[] {
  const origins = new Set<string>();
  for (const uri of client.redirectUris) {
    try {
      const origin = new URL(uri).origin;
      if (origin !== 'null') origins.add(origin);
    } catch {
      /* not a URL: no origin */
    }
  }
  return [...origins];
}
