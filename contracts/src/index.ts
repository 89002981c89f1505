export * from './generated/types.js';
export * from './generated/schemas.js';
export { createAjv, toIssues, formatIssues, type SchemaIssue, type Ajv, type ValidateFunction } from './ajv.js';
export { ContractValidators, type ContractSchemaId, type ValidationResult } from './validators.js';
export { API_ROUTES, API_TAGS, type ApiRoute, type ApiRouteAuth, type ApiRouteParam, type ApiRouteResponse } from './api-routes.js';
export { buildOpenApiDocument, type OpenApiOptions } from './openapi.js';
