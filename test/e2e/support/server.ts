/**
 * Starts the real service as a child process (embedded mode: PGlite + in-process adapters) on a
 * free port, waits for GET /health, and stops it afterwards. Each test file gets its own process,
 * so settings such as a short hold TTL never leak between files.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../tools/net.js';
import { sleep } from '../../../bench/lib/stats.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ADMIN_KEY = 'test-admin-key-test-admin-key-0123';

export interface ServerOptions {
  holdTtlSeconds?: number;
  queueMaxActive?: number;
  queueAdmitPerSecond?: number;
  /** Extra environment for this process (wins over the defaults above). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface RunningServer {
  baseUrl: string;
  port: number;
  adminKey: string;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const port = await freePort();
  // E2E_SERVER_ENTRY runs the suite against another entry point (for example a compiled build).
  const entry = process.env.E2E_SERVER_ENTRY ?? 'src/main.ts';
  const launcher = path.join(repoRoot, 'test', 'e2e', 'support', 'service-entry.ts');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    HOLD_TTL_SECONDS: String(options.holdTtlSeconds ?? 300),
    QUEUE_MAX_ACTIVE: String(options.queueMaxActive ?? 100),
    QUEUE_ADMIT_PER_SECOND: String(options.queueAdmitPerSecond ?? 50),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  // Embedded mode: no external PostgreSQL or Redis, a fresh in-memory database per process.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.PGLITE_DATA_DIR;

  const child = spawn(process.execPath, ['--import', 'tsx', launcher], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    exited = true;
    if (!stopping) {
      // A crash mid-test shows up as "connection refused" in the browser; say why here.
      process.stderr.write(`\n[e2e] the service (port ${port}) exited unexpectedly: code ${code}, signal ${signal}\n${output}\n`);
    }
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    stopping = true;
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    if (!exited) await once(child, 'exit').catch(() => {});
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 45_000);
  for (;;) {
    if (exited) {
      throw new Error(`The service exited before it was ready (${entry}).\n--- output ---\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`The service did not answer GET /health within the start timeout.\n--- output ---\n${output}`);
    }
    await sleep(150);
  }

  return { baseUrl, port, adminKey: ADMIN_KEY, output: () => output, stop };
}
