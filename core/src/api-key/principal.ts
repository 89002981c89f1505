import { PermissionError } from '../errors/domain.errors.js';
import type { ApiKeyScope } from './api-key-scope.js';

/** Who is calling, and what they may do. */
export interface Principal {
  readonly userId: string;
  readonly scopes: ReadonlySet<string>;
  /** e.g. the API key id, for logs. */
  readonly via: string;
  /** The OAuth client a bearer token was issued to; absent for API keys and sessions. */
  readonly clientId?: string;
}

export function requireScope(principal: Principal, scope: ApiKeyScope): void {
  if (!principal.scopes.has(scope)) throw new PermissionError(`this key lacks the ${scope} scope`);
}
