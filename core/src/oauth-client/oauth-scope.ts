import { API_KEY_SCOPES, type ApiKeyScope } from '../api-key/api-key-scope.js';

/** The scopes of the external API guide. */
export const OAUTH_APP_SCOPES = ['openid', 'profile', 'email', 'agents:execute', 'integrations:list', 'integrations:connect', 'integrations:delete'] as const;

/**
 * Every scope an access token can hold: the guide's, then the API key scopes, so that a bearer
 * token can call /api/v1 where its user granted the matching scope.
 */
export const OAUTH_SCOPES: readonly string[] = [...OAUTH_APP_SCOPES, ...API_KEY_SCOPES];

/** What each scope lets an app do, in plain words, for the consent page. */
export const OAUTH_SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Know who you are on Blockyard (your user id)',
  profile: 'See your name',
  email: 'See your email address',
  'agents:execute': 'Run agents for you and see how their runs went',
  'integrations:list': 'See which of your connected integrations it was given',
  'integrations:connect': 'Ask you to connect integrations for it',
  'integrations:delete': 'Delete integration credentials it was given',
  IDENTITY: 'See your account identity',
  READ_GRAPH: 'See your agents',
  WRITE_GRAPH: 'Create, change and delete your agents',
  READ_BLOCK: 'See the available blocks',
  READ_STORE: 'See the store',
  WRITE_STORE: 'Publish to the store for you',
  READ_LIBRARY: 'See your library',
  RUN_AGENT: 'Run your agents',
  READ_RUN: 'See your runs and their results',
  WRITE_RUN: 'Start and cancel runs',
  READ_RUN_REVIEW: 'See run reviews',
  WRITE_RUN_REVIEW: 'Review runs for you',
  READ_SCHEDULE: 'See your schedules',
  WRITE_SCHEDULE: 'Create and change your schedules',
  READ_CREDITS: 'See your credits',
  READ_INTEGRATIONS: 'See your connected integrations',
  UPLOAD_FILES: 'Upload files for you',
  EXECUTE_GRAPH: 'Run your agents',
  EXECUTE_BLOCK: 'Run blocks for you',
  USE_TOOLS: 'Use tools for you',
  MANAGE_INTEGRATIONS: 'Connect and change your integrations',
  DELETE_INTEGRATIONS: 'Delete your integrations',
} satisfies Record<(typeof OAUTH_APP_SCOPES)[number] | ApiKeyScope, string>;

export function isOAuthScope(value: string): boolean {
  return OAUTH_SCOPES.includes(value);
}

/** The scopes of a space-separated scope string this server does not know, in order, without duplicates. */
export function unknownOAuthScopes(scope: string | undefined | null): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s && !isOAuthScope(s)))];
}

/** The known scopes of a space-separated scope string, in order, without duplicates (unknown ones are dropped). */
export function knownOAuthScopes(scope: string | undefined | null): string[] {
  return [...new Set((scope ?? '').split(' ').filter(isOAuthScope))];
}
