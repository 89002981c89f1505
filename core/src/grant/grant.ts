import type { ProviderDefinition } from '@blockyard/contracts';

/**
 * A user's permission for one OAuth client (a third-party app) to use one of the user's
 * credentials, limited to some integration scopes of its provider (`github:repo.read`). It is
 * made on the connect page (`/connect/:provider`) and lives until the user revokes it, the app
 * deletes the credential through it, or the app is deleted.
 */
export interface Grant {
  readonly id: string;
  /** Whose credential it is. */
  readonly userId: string;
  /** The app it was given to. */
  readonly clientId: string;
  readonly credentialId: string;
  /** The credential's provider (kept so that a grant still says what it was for after its credential is gone). */
  readonly provider: string;
  /** The integration scopes the app may use the credential for (a subset of the credential's). */
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  /** When an execution of the app last used it; null before. Updated at most once a minute. */
  readonly lastUsedAt: Date | null;
  /** When it was revoked; null while it is live. */
  readonly revokedAt: Date | null;
}

/** A live grant can be used; a revoked one never again. */
export function isGrantLive(grant: Grant): boolean {
  return grant.revokedAt === null;
}

/** Whether the grant's scopes include every one of `required`. */
export function grantCovers(grant: Grant, required: readonly string[]): boolean {
  return required.every((s) => grant.scopes.includes(s));
}

/** The integration scopes of a connect request's `scopes` parameter: comma- and/or space-separated, in order, without duplicates. */
export function parseIntegrationScopes(raw: string | null | undefined): string[] {
  return [...new Set((raw ?? '').split(/[\s,]+/).filter(Boolean))];
}

const ACTIONS: Readonly<Record<string, string>> = {
  read: 'Read',
  readonly: 'Read',
  write: 'Create and change',
  send: 'Send',
  delete: 'Delete',
  list: 'List',
  manage: 'Manage',
  admin: 'Administer',
};

/**
 * An integration scope in plain words, for the connect page: `github:repo.read` -> "Read repo
 * on GitHub", `linear:write` -> "Create and change your Linear data", `example:resources.write`
 * -> "Create and change resources on Example".
 */
export function describeIntegrationScope(scope: string, provider: Pick<ProviderDefinition, 'display_name'>): string {
  const name = scope.slice(scope.indexOf(':') + 1);
  const parts = name.split('.');
  const last = parts[parts.length - 1]!;
  const action = ACTIONS[last];
  if (!action) return `Use ${words(name)} on ${provider.display_name}`;
  const resource = parts.slice(0, -1).map(words).join(' ');
  return resource ? `${action} ${resource} on ${provider.display_name}` : `${action} your ${provider.display_name} data`;
}

function words(value: string): string {
  return value.replace(/[._-]+/g, ' ').trim();
}
