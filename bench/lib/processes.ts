/** CPU per process while the benchmark runs; the servers themselves are started with tools/processes.ts. */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

/** CPU seconds (user + system) per process group, from /proc/<pid>/stat. */
const CLOCK_TICKS = 100;

interface ProcessTicks {
  comm: string;
  ppid: number;
  /** Its own, plus those of its children that ended and were waited for (pgbench's PostgreSQL backends). */
  ticks: number;
}

async function readTicks(pid: number): Promise<ProcessTicks | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state), fields[1] field 4 (ppid); utime, stime, cutime and cstime are fields 14 to 17.
    return { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

/** CPU ticks of the whole machine by kind, from the first line of /proc/stat. */
async function machineTicks(): Promise<{ interrupts: number; steal: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const [, , , , , irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number);
    return { interrupts: irq! + softirq!, steal: steal! };
  } catch {
    return { interrupts: 0, steal: 0 };
  }
}

async function snapshot(): Promise<Map<number, ProcessTicks>> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const result = new Map<number, ProcessTicks>();
  await Promise.all(
    pids.map(async (pid) => {
      const info = await readTicks(pid);
      if (info) result.set(pid, info);
    }),
  );
  return result;
}

export interface CpuSplit {
  /** Cores used on average: server, postgres, redis, load generator, kernel threads, interrupts, steal, other. */
  cores: Record<string, number>;
  /** The busiest other programs (a busy one means a disturbed run). */
  others: { process: string; cores: number }[];
}

/**
 * Measures how many cores each part of the system used during a scenario: the server under test,
 * PostgreSQL (all its processes), Redis, the load generator (this process), kernel threads (loopback
 * networking), interrupts and everything else. On a 2-core machine they compete, and this split shows
 * which one is the wall, and whether something outside the benchmark took a share.
 */
export async function meterCpu(serverPid: number): Promise<() => Promise<CpuSplit>> {
  const groupOf = (pid: number, info: ProcessTicks) => {
    if (pid === serverPid) return 'server';
    // pgbench is the PostgreSQL floor's load generator, as this process is the scenarios'.
    if (pid === process.pid || info.comm === 'pgbench') return 'load generator';
    if (info.comm === 'postgres' || info.comm === 'postmaster') return 'postgres';
    if (info.comm === 'redis-server') return 'redis';
    if (pid === 2 || info.ppid === 2) return 'kernel threads';
    return 'other';
  };
  const before = await snapshot();
  const machineBefore = await machineTicks();
  const started = performance.now();
  return async () => {
    const after = await snapshot();
    const machineAfter = await machineTicks();
    const seconds = (performance.now() - started) / 1000;
    const perSecond = (ticks: number) => Math.max(0, Math.round((ticks / CLOCK_TICKS / seconds) * 100) / 100);
    const groups: Record<string, number> = { server: 0, postgres: 0, redis: 0, 'load generator': 0, 'kernel threads': 0, other: 0 };
    const others = new Map<string, number>();
    // A child that ended during the window comes back in its parent's count whole, with the ticks it had
    // used before the window: those are taken off the parent.
    const earlier = new Map<number, number>();
    for (const [pid, info] of before) if (!after.has(pid)) earlier.set(info.ppid, (earlier.get(info.ppid) ?? 0) + info.ticks);
    for (const [pid, info] of after) {
      const ticks = info.ticks - (before.get(pid)?.ticks ?? 0) - (earlier.get(pid) ?? 0);
      if (ticks <= 0) continue;
      const group = groupOf(pid, info);
      groups[group] = (groups[group] ?? 0) + ticks;
      if (group === 'other') others.set(info.comm, (others.get(info.comm) ?? 0) + ticks);
    }
    const cores: Record<string, number> = {};
    for (const [group, ticks] of Object.entries(groups)) cores[group] = perSecond(ticks);
    cores.interrupts = perSecond(machineAfter.interrupts - machineBefore.interrupts);
    cores.steal = perSecond(machineAfter.steal - machineBefore.steal);
    return {
      cores,
      others: [...others]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([name, ticks]) => ({ process: name, cores: perSecond(ticks) }))
        .filter((entry) => entry.cores > 0),
    };
  };
}
