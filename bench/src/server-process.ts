import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The server's entry point, `node apps/server/dist/main.js`. */
export const SERVER_MAIN = join(dirname(createRequire(import.meta.url).resolve('@blockyard/server')), 'main.js');

/** A server process a bench started. */
export interface ServerProc {
  child: ChildProcess;
  /** The last 20,000 characters it wrote (stdout and stderr). */
  output(): string;
  /** SIGTERM, SIGKILL after 15 s, and wait for the exit. */
  stop(): Promise<void>;
}

/** A 127.0.0.1 port free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the server with exactly `env` (and `nodeArgs` for node itself), and resolves once
 * GET `<base>/healthz` answers 200; throws with its output when it exits or is not up in 30 s.
 */
export async function startServerProc(options: { env: Record<string, string | undefined>; nodeArgs: readonly string[]; base: string; what: string }): Promise<ServerProc> {
  const child = spawn(process.execPath, [...options.nodeArgs, SERVER_MAIN], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c: Buffer) => (output = (output + c.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: ServerProc = {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.what} exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${options.base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${options.what} did not come up:\n${output}`);
    }
    await sleep(50);
  }
}
/** Extra node flags from an environment variable (e.g. `--cpu-prof` to profile the server). */
export function nodeArgsFrom(name: string): string[] {
  return (process.env[name] ?? '').split(/\s+/).filter(Boolean);
}
