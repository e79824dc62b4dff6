import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../tools/net.js';
import { sleep } from '../../../bench/lib/stats.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export { freePort, sleep };

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. A probe that throws fails at once. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * Every child a fault test starts, so none outlives the test run: afterAll hooks stop them, and as a
 * last resort they are killed when the worker exits. Only these pids are ever signalled.
 */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface Child {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** The last few KiB of its stdout and stderr. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess): Child {
  children.add(child);
  let tail = '';
  const capture = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-16_000);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  }).finally(() => children.delete(child));
  return {
    pid: child.pid!,
    exited,
    output: () => tail,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * A private redis-server on its own port: no persistence, loopback only. Killing it loses everything,
 * exactly like a Redis restart without persistence (the worst case the design must survive).
 */
export class PrivateRedis {
  #child: Child | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = track(child);
    await waitFor(`redis-server on ${this.port}`, async () => ((await portAnswers(this.port)) ? true : undefined), 10_000, 50);
  }

  /** kill -9: every key, script and subscription is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    await child?.kill('SIGKILL');
  }
}

export interface ServiceProcess {
  pid: number;
  baseUrl: string;
  child: Child;
}

/**
 * The real service (`node --import tsx src/main.ts`) as a child process on a free loopback port,
 * ready once GET /health answers 200.
 */
export async function startService(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceProcess> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  let gone = false;
  void child.exited.then(() => (gone = true));
  try {
    await waitFor(
      'the service to answer /health',
      async () => {
        if (gone) throw new Error('the service exited before it was ready');
        try {
          const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
          await response.arrayBuffer();
          return response.status === 200 ? true : undefined;
        } catch {
          return undefined; // not listening yet
        }
      },
      timeoutMs,
    );
  } catch (error) {
    await child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${child.output()}`);
  }
  return { pid: child.pid, baseUrl, child };
}
