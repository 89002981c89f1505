import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { API_KEY_SCOPES, ApiKeyService, BlockCatalog, BlockEngine, BlockRegistry, DomainError, generatePassword, UserService } from '@blockyard/core';
import { ConfigError, composeBlockyard, PinoLogger, readConfig, runServerFromEnv, SERVER_ROLES, type ServerConfig } from '@blockyard/server';
import { registerPluginCommands } from './plugin-commands.js';
import { Clock, CredentialKeyRotation, CredentialRepository, SecretCipher, WebhookRepository } from '@blockyard/core';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Where `users create` reads a piped password from (its first line). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** An error meant for the person at the terminal; exit code 2 for usage, 1 otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The `blockyard` command line. Commands use the same environment variables as the server. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('blockyard')
    .description('Blockyard: run third-party integrations safely on behalf of your users.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('serve')
    .description('run the HTTP API and the worker (same as npm start); with --role, one of them, sharing work through BLOCKYARD_QUEUE=bullmq')
    .addOption(
      new Option('--role <role>', 'what this process runs: all (API and worker), api (HTTP only) or worker (runs executions, no HTTP); default BLOCKYARD_ROLE, else all').choices([
        ...SERVER_ROLES,
      ]),
    )
    .action(async (opts: { role?: string }) => {
      await runServerFromEnv(opts.role ? { ...io.env, BLOCKYARD_ROLE: opts.role } : io.env);
    });

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key (for the default user unless --user says whose); prints the key alone on the last line')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${API_KEY_SCOPES.join(', ')}`, commaList)
    .option('--name <name>', 'a name to tell the key apart', 'cli')
    .option('--user <email>', 'the user the key acts for (see: blockyard users create)')
    .option('--expires-in-days <days>', 'the key stops working after this many days', positiveInt)
    .action(async (opts: { scopes: string[]; name: string; user?: string; expiresInDays?: number }) => {
      await withBlockyard(io, { plugins: false }, async (container) => {
        const users = container.get(UserService);
        const user = opts.user ? await users.findByEmail(opts.user) : await users.ensureDefaultUser();
        if (!user) throw new CliError(`no user with email ${opts.user} (see: blockyard users create)`);
        const expiresAt = opts.expiresInDays ? new Date(Date.now() + opts.expiresInDays * 86_400_000) : null;
        const { key, secret } = await container.get(ApiKeyService).createApiKey({ userId: user.id, name: opts.name, scopes: opts.scopes, expiresAt });
        io.out(`created API key ${key.id} (${key.name}) for ${user.email} with scopes ${key.scopes.join(',')}`);
        io.out('it is shown only now; store it safely:');
        io.out(secret);
      });
    });
  keys
    .command('list')
    .description("list the default user's API keys (never their secrets)")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withBlockyard(io, { plugins: false }, async (container) => {
        const user = await container.get(UserService).ensureDefaultUser();
        const list = await container.get(ApiKeyService).listApiKeys(user.id);
        const now = Date.now();
        const rows = list.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: `${k.prefix}…`,
          scopes: k.scopes.join(','),
          status: k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active',
          created_at: k.createdAt.toISOString(),
          last_used_at: k.lastUsedAt?.toISOString() ?? null,
          expires_at: k.expiresAt?.toISOString() ?? null,
        }));
        if (opts.json) io.out(JSON.stringify(rows, null, 2));
        else if (!rows.length) io.out('no API keys');
        else for (const r of rows) io.out(`${r.id}  ${r.status.padEnd(7)}  ${r.prefix}  ${r.name}  ${r.scopes}  last used ${r.last_used_at ?? 'never'}`);
      });
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key at once')
    .action(async (id: string) => {
      await withBlockyard(io, { plugins: false }, async (container) => {
        const key = await container.get(ApiKeyService).revokeApiKey(null, id);
        io.out(`revoked API key ${key.id} (${key.name})`);
      });
    });

  const secrets = program.command('secrets').description('manage the encryption of stored secrets (credential secrets and webhook signing secrets)');
  secrets
    .command('rotate')
    .description('re-encrypt every credential secret and webhook signing secret under the active key (the first of BLOCKYARD_ENCRYPTION_KEYS); safe while the server runs')
    .option('--page-size <n>', 'records read per page', positiveInt, 100)
    .action(async (opts: { pageSize: number }) => {
      await withBlockyard(io, { plugins: false }, async (container) => {
        const rotation = new CredentialKeyRotation({
          credentials: container.get<CredentialRepository>(CredentialRepository),
          webhooks: container.get<WebhookRepository>(WebhookRepository),
          cipher: container.get<SecretCipher>(SecretCipher),
          clock: container.get<Clock>(Clock),
        });
        const report = await rotation.rotate({ pageSize: opts.pageSize });
        const kinds = [
          ['credential', report.credentials],
          ['webhook', report.webhooks],
        ] as const;
        for (const [kind, t] of kinds) {
          io.out(`active key ${report.activeKeyId}: ${t.scanned} ${kind}(s) scanned, ${t.rotated} re-encrypted, ${t.current} already current, ${t.retried} retried after a concurrent change, ${t.vanished} deleted meanwhile, ${t.failures.length} failed`);
        }
        for (const [kind, t] of kinds) for (const f of t.failures) io.err(`${kind} ${f.id} (sealed with key ${f.keyId}) was not re-encrypted: ${f.reason}`);
        const failed = kinds.filter(([, t]) => t.failures.length).map(([kind, t]) => `${t.failures.length} ${kind}(s) could not be re-encrypted: ${t.failures.map((f) => f.id).join(', ')}`);
        if (failed.length) throw new CliError(failed.join('; '));
      });
    });

  const users = program.command('users').description('manage users');
  users
    .command('create')
    .description('create a user; the password is the first line of stdin when piped, else generated and printed once')
    .requiredOption('--email <email>', 'the email the user signs in with')
    .requiredOption('--name <name>', 'the name shown for the user')
    .action(async (opts: { email: string; name: string }) => {
      const piped = io.stdin && !io.stdin.isTTY ? await readFirstLine(io.stdin) : '';
      const password = piped || generatePassword();
      await withBlockyard(io, { plugins: false }, async (container) => {
        const user = await container.get(UserService).createUser({ email: opts.email, name: opts.name, password });
        io.out(`created user ${user.id} (${user.name} <${user.email}>)`);
        if (!piped) {
          io.out('generated password; it is shown only now, store it safely:');
          io.out(password);
        }
      });
    });

  const blocks = program.command('blocks').description('inspect the blocks of the configured plugins');
  blocks
    .command('list')
    .description('list the blocks the configured plugins provide')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withBlockyard(io, { plugins: true }, async (container, plugins) => {
        for (const p of plugins) if (p.status === 'failed') io.err(`plugin ${p.name} skipped: ${p.error}`);
        const list = container.get(BlockCatalog).listBlocks();
        if (opts.json) io.out(JSON.stringify(list, null, 2));
        else for (const b of list) io.out(`${b.id.padEnd(24)} ${b.name} — ${b.description}`);
      });
    });

  program
    .command('run <blockId>')
    .description('run a block in this process and print its outputs as JSON')
    .addOption(new Option('--input <json>', 'the inputs, a JSON object').default('{}'))
    .option('--timeout <ms>', 'stop the block after this many milliseconds', positiveInt)
    .action(async (blockId: string, opts: { input: string; timeout?: number }) => {
      let inputs: unknown;
      try {
        inputs = JSON.parse(opts.input);
      } catch (e) {
        throw new CliError(`--input is not valid JSON: ${(e as Error).message}`, 2);
      }
      if (!inputs || typeof inputs !== 'object' || Array.isArray(inputs)) throw new CliError('--input must be a JSON object', 2);
      await withBlockyard(io, { plugins: true, storage: false }, async (container) => {
        const block = container.get<BlockRegistry>(BlockRegistry).get(blockId);
        if (!block) throw new CliError(`block ${blockId} not found (see: blockyard blocks list)`);
        const outcome = await container.get(BlockEngine).run(block, inputs as Record<string, unknown>, { executionId: `cli-${Date.now()}`, timeoutMs: opts.timeout });
        io.out(JSON.stringify({ status: outcome.status, outputs: outcome.outputs, error: outcome.error, cost_usd: outcome.costUsd }, null, 2));
        if (outcome.status !== 'completed') throw new CliError(outcome.error);
      });
    });

  registerPluginCommands(program, io);
  return program;
}

async function withBlockyard(
  io: CliIO,
  what: { plugins: boolean; storage?: boolean },
  fn: (container: Awaited<ReturnType<typeof composeBlockyard>>['container'], plugins: Awaited<ReturnType<typeof composeBlockyard>>['plugins']) => Promise<void>,
): Promise<void> {
  let config: ServerConfig;
  try {
    config = readConfig(io.env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 2);
    throw e;
  }
  if (what.storage === false) config = { ...config, databaseUrl: 'memory:' };
  const logger = PinoLogger.create(io.env.LOG_LEVEL ? config.logLevel : 'warn', process.stderr);
  const blockyard = await composeBlockyard(config, { logger, loadPlugins: what.plugins });
  try {
    await fn(blockyard.container, blockyard.plugins);
  } finally {
    await blockyard.close();
  }
}

/** The first line of a piped stream (without its line break); stops reading once it has it. */
async function readFirstLine(stream: NodeJS.ReadableStream, maxBytes = 4096): Promise<string> {
  let text = '';
  try {
    for await (const chunk of stream) {
      text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
      if (text.includes('\n') || text.length > maxBytes) break;
    }
  } finally {
    (stream as { destroy?: () => void }).destroy?.();
  }
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line.length > maxBytes) throw new CliError(`the password on stdin is longer than ${maxBytes} bytes`, 2);
  return line;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError) {
      io.err(`blockyard: ${e.message}`);
      return e.exitCode;
    }
    if (DomainError.is(e)) {
      io.err(`blockyard: ${e.message}`);
      return e.kind === 'invalid_input' ? 2 : 1;
    }
    io.err(`blockyard: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}
