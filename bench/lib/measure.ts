/** Starting and stopping the two servers, and measuring one step against one of them (CPU split, profile window). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startService as startProcess, type ServiceProcess } from '../../tools/processes.js';
import type { LoadResult } from './load.js';
import { settings } from './options.js';
import { meterCpu, resultsDir } from './processes.js';
import { monotonicUs, summarizeProfile } from './profile.js';
import { checkOut } from './revision.js';
import { log, report, type Measured, type ScenarioReport } from './report.js';
import { round } from './stats.js';

/** The servers running under --cpu-prof: those startService started while --profile was on. */
const profiled = new Set<string>();

/** The service, or its copy in the baseline's place (--self-check): both have their loop metered. */
const isService = (server: ServiceProcess) => server.name.startsWith('service');

/**
 * How long the service's main thread (its event loop) has so far run and waited, runnable, for a core:
 * the first two fields of /proc/<pid>/schedstat, in nanoseconds. Their sum is the time the loop was busy
 * (not parked waiting for I/O); the second alone is the part spent waiting for a core. Read from outside
 * the process on purpose: scraping the service's /metrics around every step, as the bench once did,
 * cost the measured service its collectors' work and their garbage, which the baseline never paid. Two
 * copies of the service measured against each other read 0.85-0.97 for the scraped one (15 runs, mean
 * 0.88), 0.95-0.99 with both scraped and 0.94-0.96 with neither.
 */
const mainThreadSeconds = async (server: ServiceProcess) => {
  const [running, waiting] = (await readFile(`/proc/${server.pid}/schedstat`, 'utf8')).split(' ').map(Number);
  return { busy: (running! + waiting!) / 1e9, waiting: waiting! / 1e9 };
};

/**
 * Runs one measured step against a server, recording the CPU split (and the profile window) and, for the
 * service, the shares of the step its event loop was busy and waited for a core.
 */
export async function measure<T>(server: ServiceProcess, scenario: string, work: () => Promise<T>): Promise<Measured<T> & { ms: number }> {
  const before = isService(server) ? await mainThreadSeconds(server) : undefined;
  const stopMeter = await meterCpu(server.pid);
  const fromUs = monotonicUs();
  const result = await work();
  const toUs = monotonicUs();
  const { cores: cpu, others } = await stopMeter();
  const ms = (toUs - fromUs) / 1000;
  report.windows.push({ scenario, server: server.name, fromUs, toUs });
  if (!before) return { result, cpu, others, ms };
  const after = await mainThreadSeconds(server);
  const share = (seconds: number) => round(seconds / (ms / 1000), 2);
  return { result, cpu, others, ms, loopBusy: share(after.busy - before.busy), loopWait: share(after.waiting - before.waiting) };
}

/** The busiest outside programs over several steps (largest share seen per program). */
export function combineOthers(steps: readonly { others?: { process: string; cores: number }[] }[]) {
  const most = new Map<string, number>();
  for (const step of steps) for (const other of step.others ?? []) most.set(other.process, Math.max(most.get(other.process) ?? 0, other.cores));
  return [...most].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([process, cores]) => ({ process, cores }));
}

/** The CPU split of several measured steps, weighted by their duration. */
export function combineCpu(steps: readonly { cpu: Record<string, number>; ms: number }[]): Record<string, number> {
  const total = steps.reduce((sum, step) => sum + step.ms, 0) || 1;
  const cpu: Record<string, number> = {};
  for (const step of steps) for (const [group, cores] of Object.entries(step.cpu)) cpu[group] = (cpu[group] ?? 0) + (cores * step.ms) / total;
  for (const group of Object.keys(cpu)) cpu[group] = round(cpu[group]!, 2);
  return cpu;
}

/** The shares of several steps their server's event loop was busy and waited for a core, weighted by duration (none for the baseline). */
export function combineLoop(steps: readonly { loopBusy?: number; loopWait?: number; ms: number }[]): { loopBusy?: number; loopWait?: number } {
  const metered = steps.filter((step) => step.loopBusy !== undefined && step.loopWait !== undefined);
  const total = metered.reduce((sum, step) => sum + step.ms, 0);
  if (total === 0) return {};
  const weighted = (share: (step: (typeof metered)[number]) => number) => round(metered.reduce((sum, step) => sum + share(step) * step.ms, 0) / total, 2);
  return { loopBusy: weighted((step) => step.loopBusy!), loopWait: weighted((step) => step.loopWait!) };
}

/**
 * A server as a child process, its output appended to bench/results/<name>.log; stopping waits up to 20 s
 * for a clean exit. Each runs in a session of its own, as a deployed server does: with the kernel's
 * autogroup on, a server in the bench's session would share one group's CPU with the load generator
 * driving it, while every PostgreSQL backend (each calls setsid) and Redis have a group each.
 */
const startServer = (name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []) =>
  startProcess({ name, entry, env, nodeArgs, timeoutMs: 60_000, graceMs: 20_000, log: `${resultsDir}${name}.log`, ownSession: true });

export async function startService(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const flags = settings.serviceNodeFlags;
  if (flags.length > 0) log(`${name} runs with the Node flags ${flags.join(' ')}`);
  if (!settings.profile) return startServer(name, 'src/main.ts', env, flags);
  profiled.add(name);
  return startServer(name, 'src/main.ts', env, [...flags, '--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${name}.cpuprofile.json`]);
}

export async function stopService(server: ServiceProcess): Promise<void> {
  await server.stop();
  if (!profiled.delete(server.name)) return;
  const path = `${resultsDir}${server.name}.cpuprofile.json`;
  report.profiles.push(path);
  const phase = report.scenarios as unknown as Record<string, ScenarioReport<unknown>>;
  // Each server name is started once per run, so its windows are the ones this profile covers.
  const measured = report.windows.filter((window) => window.server === server.name);
  for (const scenario of new Set(measured.map((window) => window.scenario))) {
    const target = phase[scenario]?.ours;
    const windows = measured.filter((window) => window.scenario === scenario).map(({ fromUs, toUs }) => ({ fromUs, toUs }));
    if (target) target.profile = { ...(await summarizeProfile(path, windows)), windows: { file: path, spans: windows } };
  }
}

/**
 * The reference server; with --self-check, a second copy of the service in its place, started the same
 * way but never profiled, so that any ratio away from 1 is the bench's own doing; with --against, that
 * copy runs another revision, so that the ratio is what the code changed since.
 */
export async function startBaseline(env: Record<string, string>): Promise<ServiceProcess> {
  if (!settings.selfCheck) return startServer('baseline', 'bench/baseline/server.ts', env);
  if (settings.against === undefined) return startServer('service-copy', 'src/main.ts', env);
  const checkout = checkOut(settings.against);
  log(`the copy runs ${settings.against} (${checkout.commit.slice(0, 12)}), checked out in ${checkout.dir}`);
  try {
    const copy = await startServer('service-copy', join(checkout.dir, 'src/main.ts'), env);
    return {
      ...copy,
      async stop(graceMs) {
        await copy.stop(graceMs);
        checkout.remove();
      },
    };
  } catch (error) {
    checkout.remove();
    throw error;
  }
}

export function describeLoad(label: string, result: LoadResult) {
  const errors = Object.entries(result.outcomes).filter(([key]) => !/^(2\d\d|304)$/.test(key));
  log(
    `${label}: ${result.requests} requests in ${(result.durationMs / 1000).toFixed(2)} s = ${result.rps} req/s, ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms${errors.length ? `, ${errors.map(([k, v]) => `${k}: ${v}`).join(', ')}` : ''}`,
  );
}
