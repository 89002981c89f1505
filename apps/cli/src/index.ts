export { buildProgram, runCli, CliError, type CliIO } from './program.js';
