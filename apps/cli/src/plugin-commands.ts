import { relative } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  formatProblem,
  formatSelfTestResult,
  generateBlockTypes,
  importAutohiveFolder,
  PluginFolderError,
  runSelfTests,
  scaffoldPlugin,
  ScaffoldError,
  validatePlugin,
  type UnmappedField,
} from '@blockyard/plugin-loader';

/** Where the plugin commands write (the CLI's CliIO fits). */
export interface PluginCommandsIO {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `blockyard plugin new|validate|typegen|test|import`: a plugin author's tools, offline, no
 * server and no configuration. Exit codes as the rest of the CLI: 1 when the plugin has
 * problems or a case fails, 2 for bad usage or input.
 *
 * (This module does not import program.ts, which registers it: a bad-usage error is a
 * CommanderError with exit code 2, which runCli maps to 2; any other error exits 1 with its
 * message.)
 */
export function registerPluginCommands(program: Command, io: PluginCommandsIO): Command {
  const plugin = program.command('plugin').description('scaffold, validate, type and self-test plugin packages (no server needed)');

  plugin
    .command('new <name>')
    .description('scaffold a plugin package (kebab-case name, e.g. acme-crm) that passes validate and test as generated')
    .option('--dir <path>', 'where to create it (default ./<name>); must not exist, or be empty')
    .option('--action <action>', 'the snake_case action of its block: <provider>.<action>', 'create_item')
    .option('--display-name <name>', "the provider's display name (default from the name)")
    .action(async (name: string, opts: { dir?: string; action: string; displayName?: string }) => {
      let result;
      try {
        result = await scaffoldPlugin({ name, dir: opts.dir, action: opts.action, displayName: opts.displayName });
      } catch (e) {
        if (e instanceof ScaffoldError && e.kind === 'usage') usage(io, e.message);
        throw e;
      }
      io.out(`created ${display(result.dir)} with block ${result.manifest.blocks[0]!.id}:`);
      for (const file of result.files) io.out(`  ${file}`);
      io.out(`next: cd ${display(result.dir)} && blockyard plugin validate && blockyard plugin test`);
    });

  plugin
    .command('validate [dir]')
    .description('check a plugin folder (or an Autohive-style one): every problem at once, each with its JSON pointer')
    .action(async (dir = '.') => {
      const result = await validatePlugin(dir);
      printUnmapped(io, result.unmapped, (line) => io.err(line), 'note: not mapped from config.json: ');
      const where = display(result.dir);
      if (!result.ok) {
        for (const problem of result.problems) io.err(formatProblem(problem));
        throw new Error(`${display(result.file ?? result.dir)}: ${count(result.problems.length, 'problem')}`);
      }
      const m = result.manifest!;
      const tests = m.blocks.reduce((n, b) => n + (b.tests?.length ?? 0), 0);
      io.out(`✓ ${m.name} ${m.version} (${where}) is valid: ${count(m.blocks.length, 'block')}, ${count(m.providers?.length ?? 0, 'provider')}, ${count(tests, 'self-test')}`);
    });

  plugin
    .command('typegen [dir]')
    .description('write src/generated/blocks.ts: TypeScript types of each block\'s inputs and outputs')
    .action(async (dir = '.') => {
      const result = await failOnFolderError(() => generateBlockTypes(dir));
      io.out(`${result.written ? 'wrote' : 'up to date:'} ${display(result.file)} (${result.types.join(', ')})`);
    });

  plugin
    .command('test [dir]')
    .description("run the manifest's self-test cases with the real engine and mocked HTTP")
    .option('--timeout <ms>', 'time limit of each case', positiveInt, 10_000)
    .action(async (dir: string = '.', opts: { timeout: number }) => {
      const report = await failOnFolderError(() => runSelfTests(dir, { timeoutMs: opts.timeout, onResult: (r) => io.out(formatSelfTestResult(r)) }));
      if (!report.results.length) {
        io.out(`no self-test cases in ${report.plugin}: add "tests" to its blocks in the manifest`);
        return;
      }
      const summary = `${report.passed} passed, ${report.failed} failed (${report.plugin})`;
      if (!report.ok) throw new Error(`self-tests failed: ${summary}`);
      io.out(summary);
    });

  plugin
    .command('import <dir>')
    .description('convert an Autohive-style folder (config.json) to blockyard.plugin.json, listing what it could not map')
    .option('--out <dir>', 'where to write the manifest and its entry (default: the folder itself)')
    .option('--force', 'overwrite an existing blockyard.plugin.json')
    .action((dir: string, opts: { out?: string; force?: boolean }) => {
      let result;
      try {
        result = importAutohiveFolder(dir, { out: opts.out, force: opts.force });
      } catch (e) {
        if (e instanceof PluginFolderError && !/exists; pass --force/.test(e.message)) usage(io, e.message);
        throw e;
      }
      for (const file of result.files) io.out(`wrote ${display(file)}`);
      io.out(`${count(result.manifest.blocks.length, 'block')}: ${result.manifest.blocks.map((b) => b.id).join(', ')}`);
      if (result.unmapped.length) io.out(`could not map ${count(result.unmapped.length, 'field')} of config.json:`);
      printUnmapped(io, result.unmapped, io.out, '  ');
    });

  return plugin;
}

/** Reports bad usage or input: exit code 2, without commander's help text. */
function usage(io: PluginCommandsIO, message: string): never {
  io.err(`blockyard: ${message}`);
  throw new CommanderError(2, 'blockyard.usage', message);
}

async function failOnFolderError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof PluginFolderError) throw new Error(e.message);
    throw e;
  }
}

function printUnmapped(io: PluginCommandsIO, unmapped: readonly UnmappedField[], write: (line: string) => void, prefix: string): void {
  for (const u of unmapped) write(`${prefix}${u.path || '/'}: ${u.reason}`);
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}
