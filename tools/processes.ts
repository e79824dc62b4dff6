import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './async.js';
import { requestOnce } from './http/transport.js';
import { freePort } from './net.js';

/** The repository root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/**
 * Every child started here, so none outlives its parent: callers stop them, and as a last resort they
 * are killed when this process exits. Only these pids are ever signalled.
 */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const TAIL_CHARS = 256 * 1024;

export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly running: boolean;
  /** The last 256 KiB of its stdout and stderr. */
  output(): string;
  /** Sends a signal and returns at once (SIGUSR2, or a SIGTERM whose outcome the caller watches). */
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal` (SIGKILL unless told), waits up to `graceMs` for the exit, then kills. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts a process with piped output; `log` is a file that gets all of it appended. */
export function spawnChild(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; log?: string; ownSession?: boolean } = {},
): Child {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownSession ?? false,
  });
  children.add(child);
  const log = options.log ? createWriteStream(options.log, { flags: 'a' }) : undefined;
  let tail = '';
  const capture = (chunk: Buffer) => {
    log?.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout!.on('data', capture);
  child.stderr!.on('data', capture);
  child.once('close', () => log?.end());
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => {
    if (!running()) resolve();
    else child.once('exit', () => resolve());
  }).finally(() => children.delete(child));
  return {
    pid: child.pid!,
    process: child,
    exited,
    get exitCode() {
      return child.exitCode;
    },
    get signalCode() {
      return child.signalCode;
    },
    get running() {
      return running();
    },
    output: () => tail,
    signal: (signal) => void child.kill(signal),
    async kill(signal = 'SIGKILL', graceMs = 5_000) {
      if (running()) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface ServiceOptions {
  /** For messages (default "service"). */
  name?: string;
  /** The entry point, relative to the repository (default src/main.ts). */
  entry?: string;
  /** The service's settings. */
  env: Record<string, string>;
  /** What the settings go on top of (default PATH, HOME, TMPDIR, LANG and NODE_ENV=production). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Node flags, after `--import tsx` and before the entry. */
  nodeArgs?: string[];
  /** Default: a free one. */
  port?: number;
  /** Ready once this answers 200 (default /health; /ready waits for the database and Redis too). */
  readyPath?: string;
  /** How long it may take to be ready (default 30 s). */
  timeoutMs?: number;
  /** How long stop() waits after SIGTERM before it kills (default 5 s). */
  graceMs?: number;
  /** A file that gets all its output appended. */
  log?: string;
  /**
   * Start it in a session of its own (setsid), as a deployed service runs, rather than in this process's.
   * Where the kernel groups processes by session for CPU time (autogroup), a server left in the session
   * of the load generator driving it shares one group's share with it. Only this process's own exit
   * handling then stops it: a terminal's Ctrl-C reaches its foreground session alone.
   */
  ownSession?: boolean;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  port: number;
  baseUrl: string;
  child: Child;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ServiceProcess>();

const defaultEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((name) => process.env[name]).map((name) => [name, process.env[name]])),
  NODE_ENV: 'production',
});

/** The real service (`node --import tsx src/main.ts`) as a child process on 127.0.0.1, once it is ready. */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const name = options.name ?? 'service';
  const entry = options.entry ?? 'src/main.ts';
  const port = options.port ?? (await freePort());
  const readyPath = options.readyPath ?? '/health';
  const env = { ...(options.baseEnv ?? defaultEnv()), HOST: '127.0.0.1', ...options.env, PORT: String(port) };
  const child = spawnChild(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), entry], {
    env,
    ownSession: options.ownSession ?? false,
    ...(options.log ? { log: options.log } : {}),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    name,
    pid: child.pid,
    port,
    baseUrl,
    child,
    output: () => child.output(),
    async stop(graceMs = options.graceMs ?? 5_000) {
      running.delete(service);
      await child.kill('SIGTERM', graceMs);
    },
  };
  try {
    await waitFor(
      `${name} (${entry}) to answer ${readyPath} on ${baseUrl}`,
      async () => {
        if (!child.running) throw new Error(`${name} (${entry}) exited (${child.exitCode ?? child.signalCode}) before it was ready`);
        const reply = await requestOnce(baseUrl, { method: 'GET', path: readyPath, timeoutMs: 2_000 });
        return reply.status === 200 ? true : undefined;
      },
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    await child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- output ---\n${child.output()}`);
  }
  running.add(service);
  return service;
}

/** Stops the given services, or every one started here and not stopped yet. */
export async function stopAll(services: Iterable<ServiceProcess> = running): Promise<void> {
  await Promise.all([...services].map((service) => service.stop()));
}
