import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (test/dist/support -> ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVER_MAIN = join(ROOT, 'apps/server/dist/main.js');
export const CLI_BIN = join(ROOT, 'apps/cli/bin/blockyard.js');
