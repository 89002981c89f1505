/** The scopes an API key (or bearer token) can hold, as the API guide lists them. */
export const API_KEY_SCOPES = [
  'IDENTITY',
  'READ_GRAPH',
  'WRITE_GRAPH',
  'READ_BLOCK',
  'READ_STORE',
  'WRITE_STORE',
  'READ_LIBRARY',
  'RUN_AGENT',
  'READ_RUN',
  'WRITE_RUN',
  'READ_RUN_REVIEW',
  'WRITE_RUN_REVIEW',
  'READ_SCHEDULE',
  'WRITE_SCHEDULE',
  'READ_CREDITS',
  'READ_INTEGRATIONS',
  'UPLOAD_FILES',
  // legacy (v1)
  'EXECUTE_GRAPH',
  'EXECUTE_BLOCK',
  'USE_TOOLS',
  'MANAGE_INTEGRATIONS',
  'DELETE_INTEGRATIONS',
] as const;

export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}
