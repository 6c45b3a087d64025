// Where the CPU goes while the pipeline runs, read from /proc (Linux), not
// guessed: each long-lived process's own time, and the time of the children
// it has reaped (a worker's: its Terraform runs, which setpriv execs in place),
// beside the whole machine's busy time, which includes whatever else runs.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// CPU seconds by part.
export type CpuUse = {
  terraform: number;
  workers: number;
  api: number;
  redis: number;
  emulators: number;
  machine: number;
  wallSeconds: number;
  cores: number;
};
export type CpuParts = { workerPids: number[]; apiPid: number; redisPid: number };
type Reading = Omit<CpuUse, 'wallSeconds' | 'cores'> & { at: number };

// utime + stime and cutime + cstime, in seconds.
async function processTimes(pid: number): Promise<{ own: number; children: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Fields 14-17 of proc(5), counted from field 3 (state) here.
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
  return { own: (utime + stime) / TICKS_PER_SECOND, children: (cutime + cstime) / TICKS_PER_SECOND };
}

async function machineBusy(): Promise<number> {
  const [cpu = ''] = (await readFile('/proc/stat', 'utf8')).split('\n');
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

async function read(parts: CpuParts): Promise<Reading> {
  const workers = await Promise.all(parts.workerPids.map(processTimes));
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    terraform: workers.reduce((sum, w) => sum + w.children, 0),
    workers: workers.reduce((sum, w) => sum + w.own, 0),
    api: (await processTimes(parts.apiPid)).own,
    redis: (await processTimes(parts.redisPid)).own,
    // s3rver, dynalite, the counting S3 proxy and the load driver share the benchmark's process.
    emulators: (self.user + self.system) / 1e6,
    machine: await machineBusy(),
  };
}

// Starts measuring; the returned function says what was used since.
export async function measureCpu(parts: CpuParts): Promise<() => Promise<CpuUse>> {
  const start = await read(parts);
  return async () => {
    const end = await read(parts);
    const d = (key: keyof Omit<Reading, 'at'>) => end[key] - start[key];
    const wallSeconds = (end.at - start.at) / 1000;
    return {
      terraform: d('terraform'),
      workers: d('workers'),
      api: d('api'),
      redis: d('redis'),
      emulators: d('emulators'),
      machine: d('machine'),
      wallSeconds,
      cores: os.cpus().length,
    };
  };
}
