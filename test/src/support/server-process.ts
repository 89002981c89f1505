import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SERVER_MAIN } from './paths.js';

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Every log line so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** Raw stdout + stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown at all, as in a crash. */
  kill(): Promise<void>;
}

/**
 * A 127.0.0.1 port free a moment ago: for a server whose URL must be known before it starts
 * (BLOCKYARD_PUBLIC_URL, OAuth redirect URIs).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A fresh temporary data dir; removed by `removeDataDir`. */
export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'blockyard-e2e-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface StartServerOptions {
  /**
   * The log line that says the process is up: `blockyard listening` (its `url` is the
   * server's), or `blockyard worker ready` for BLOCKYARD_ROLE=worker, which serves no HTTP
   * (its url is then ''). Default: by the role in `env`.
   */
  readyLine?: 'blockyard listening' | 'blockyard worker ready';
  /** How long to wait for it. Default 20 s. */
  startTimeoutMs?: number;
}

/**
 * Starts the real server (`node apps/server/dist/main.js`) on 127.0.0.1 and a free port,
 * and resolves once it logs that it listens (or, for role worker, that it is ready). The
 * environment is this process's (so BLOCKYARD_QUEUE, BLOCKYARD_DATABASE_URL ... set for a run
 * reach every server), then the test's defaults, then `env`. Rate limits are off by default
 * (BLOCKYARD_RATE_LIMITS=off): tests fire bursts with one key; a test about them turns them on.
 */
export async function startServerProcess(env: Record<string, string> = {}, dataDir = makeDataDir(), options: StartServerOptions = {}): Promise<ServerProcess> {
  const childEnv: Record<string, string | undefined> = { ...process.env, PORT: '0', HOST: '127.0.0.1', BLOCKYARD_DATA_DIR: dataDir, LOG_LEVEL: 'info', BLOCKYARD_RATE_LIMITS: 'off', ...env };
  const readyLine = options.readyLine ?? (childEnv.BLOCKYARD_ROLE?.trim().toLowerCase() === 'worker' ? 'blockyard worker ready' : 'blockyard listening');
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let raw = '';
  const logs: Array<Record<string, unknown>> = [];
  let pending = '';
  const onData = (chunk: Buffer) => {
    raw += chunk.toString();
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${raw}`)), options.startTimeoutMs ?? 20_000);
    const check = () => {
      const line = logs.find((l) => l.msg === readyLine);
      if (line) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(readyLine === 'blockyard listening' ? String(line.url) : '');
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before logging "${readyLine}":\n${raw}`));
    });
  });

  return {
    url,
    dataDir,
    child,
    logs,
    output: () => raw,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the server expecting it to exit (bad configuration): its code and output. */
export function runServerToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER_MAIN], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
