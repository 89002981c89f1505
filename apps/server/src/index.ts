export { readConfig, ConfigError, describeDatabase, describeQueue, FIRST_PARTY_PLUGINS, SERVER_ROLES, type ServerConfig, type ServerRole, type QueueKind, type LogLevel } from './config.js';
export { composeBlockyard, type Blockyard, type ComposeOptions } from './compose.js';
export { startServer, type RunningServer } from './server.js';
export { PinoLogger } from './pino-logger.js';
export { runServerFromEnv } from './run.js';
