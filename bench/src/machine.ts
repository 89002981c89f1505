import os from 'node:os';

/** What the numbers were measured on; they mean little without it. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  availableParallelism: number;
  totalMemoryMiB: number;
  loadAverage1m: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    node: process.version,
    v8: process.versions.v8,
    platform: os.platform(),
    arch: os.arch(),
  };
}
