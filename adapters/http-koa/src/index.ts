export { createHttpApp } from './http-app.js';
export { httpKoaModule, HttpApp } from './http-koa.module.js';
export { STATUS_OF_KIND } from './middleware/error-mapper.js';
export { toExecutionBody } from './contract-io.js';
export type { HttpDeps, HttpOptions } from './http-deps.js';
