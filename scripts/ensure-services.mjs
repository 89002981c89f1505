#!/usr/bin/env node
// Makes sure the services the test suite uses for real are up: PostgreSQL on 127.0.0.1:5432
// and Redis on 127.0.0.1:6379. Starts each when it is installed but stopped; otherwise fails
// loudly. Never skips.
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';

const services = [
  {
    name: 'PostgreSQL',
    host: '127.0.0.1',
    port: 5432,
    start() {
      if (!existsSync('/etc/postgresql')) return false;
      for (const version of readdirSync('/etc/postgresql')) {
        execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, { stdio: 'inherit' });
      }
      return true;
    },
  },
  {
    name: 'Redis',
    host: '127.0.0.1',
    port: 6379,
    start() {
      let server;
      try {
        server = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
      } catch {
        return false;
      }
      if (!server) return false;
      // In the background, on loopback only, keeping nothing on disk: the tests' data is throwaway.
      execFileSync(server, ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'inherit' });
      return true;
    },
  },
];

const reachable = (host, port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });

let failed = false;
for (const service of services) {
  if (await reachable(service.host, service.port)) continue;
  console.error(`${service.name} is not reachable on ${service.host}:${service.port}; trying to start it`);
  try {
    if (!service.start()) console.error(`${service.name} is not installed here`);
  } catch (e) {
    console.error(`could not start ${service.name}: ${e.message}`);
  }
  let up = false;
  for (let i = 0; i < 30 && !up; i++) {
    up = await reachable(service.host, service.port);
    if (!up) await new Promise((r) => setTimeout(r, 500));
  }
  if (!up) {
    console.error(`\n*** ${service.name} is required by the test suite (${service.host}:${service.port}) and is not running. ***\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
