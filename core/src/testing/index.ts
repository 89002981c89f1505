export * from './storage.contract.js';
export * from './storage.fixtures.js';
export * from './expect-conflict.js';
export * from './queue.contract.js';
export * from './session-repository.contract.js';
export * from './oauth-state-repository.contract.js';
