import { runCli } from './program.js';

// Sets the exit code and lets the process end on its own, so that piped stdout is flushed.
process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  stdin: process.stdin,
});
