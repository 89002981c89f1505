import { spawn } from 'node:child_process';
import { API_KEY_SCOPES } from '@blockyard/core';
import { CLI_BIN, ROOT } from './paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `blockyard <args>` as a user would, in its own process; `stdin` is piped in when given. */
export function runBlockyard(args: string[], env: Record<string, string>, options: { stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: '', ...env }, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`blockyard ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `blockyard keys create --scopes ...`: the key printed alone on the last line. */
/** Creates an API key through the CLI (for the default user, or the user with email `options.user`); answers its secret. */
export async function createKey(scopes: string[], env: Record<string, string>, options: { user?: string } = {}): Promise<string> {
  const result = await runBlockyard(['keys', 'create', '--scopes', scopes.join(','), '--name', 'e2e', ...(options.user ? ['--user', options.user] : [])], env);
  if (result.code !== 0) throw new Error(`keys create failed (${result.code}): ${result.stderr}`);
  const lines = result.stdout.trimEnd().split('\n');
  return lines[lines.length - 1]!;
}

/** A full-access key (every API key scope), as managing OAuth clients with a key requires. */
export function createFullKey(env: Record<string, string>, options: { user?: string } = {}): Promise<string> {
  return createKey([...API_KEY_SCOPES], env, options);
}
