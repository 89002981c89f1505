export * from './in-memory-user.repository.js';
export * from './in-memory-api-key.repository.js';
export * from './in-memory-execution.repository.js';
export * from './in-memory-credential.repository.js';
export * from './in-memory-oauth-state.repository.js';
export * from './storage-memory.module.js';
export * from './in-memory-session.repository.js';
export * from './in-memory-login-throttle.repository.js';
