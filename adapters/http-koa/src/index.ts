export { createHttpApp } from './http-app.js';
export { httpKoaModule, HttpApp } from './http-koa.module.js';
export { STATUS_OF_KIND } from './middleware/error-mapper.js';
export { toExecutionBody } from './contract-io.js';
export { HttpAuthorizationServer, type HttpDeps, type HttpOptions, type PendingAuthorizationView } from './http-deps.js';
export { rateLimit, rateLimited, endpointClassOf, rateLimitIdentity, HttpRateLimits } from './middleware/rate-limit.js';
export { sessionAuth, sessionOf, safeNextPath, SESSION_COOKIE, type SessionState } from './middleware/session-auth.js';
export { loginRoutes, pageFormBodies, LOGIN_CSRF_COOKIE } from './routes/login.routes.js';
