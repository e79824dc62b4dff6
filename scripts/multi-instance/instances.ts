import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Service instances as real child processes (`node --import tsx src/main.ts`), for multi-instance runs. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// A port that was free a moment ago (a small race, fine for local runs).
export { freePort } from '../../tools/net.js';

export interface Instance {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr (the last 256 KiB). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// If the parent dies without cleaning up, take the children with it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

export interface StartOptions {
  readyTimeoutMs?: number;
  /** Extra node flags, e.g. ['--expose-gc', '--import', './scripts/multi-instance/gc-on-signal.ts']. */
  nodeArgs?: string[];
}

/** Starts one instance and waits until its /ready answers 200 (database and Redis reachable). */
export async function startInstance(name: string, port: number, env: Record<string, string>, options: StartOptions = {}): Promise<Instance> {
  const { readyTimeoutMs = 30_000, nodeArgs = [] } = options;
  const base = Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/main.ts'], {
    cwd: repoRoot,
    env: { ...base, HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-256 * 1024);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const url = `http://127.0.0.1:${port}`;
  const instance: Instance = {
    name,
    port,
    url,
    child,
    output: () => output,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    const ready = await fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    if (ready) return instance;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await instance.stop();
  throw new Error(`${name} was not ready on ${url} within ${readyTimeoutMs} ms:\n${output}`);
}

export async function stopAll(instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.stop()));
}

/** Reads one unlabelled or summed sample from a Prometheus text page. */
export function metric(page: string, name: string): number {
  let total = 0;
  let found = false;
  for (const line of page.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (match?.[1] === name) {
      total += Number(match[3]);
      found = true;
    }
  }
  return found ? total : Number.NaN;
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}
