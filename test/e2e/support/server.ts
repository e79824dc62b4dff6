/**
 * Starts the real service as a child process (embedded mode: PGlite + in-process adapters) on a
 * free port, waits for GET /health, and stops it afterwards. Each test file gets its own process,
 * so settings such as a short hold TTL never leak between files.
 */
import { startService } from '../../../tools/processes.js';

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
  // E2E_SERVER_ENTRY runs the suite against another entry point (for example a compiled build); the launcher reads it.
  const entry = process.env.E2E_SERVER_ENTRY ?? 'src/main.ts';
  // Embedded mode: no external PostgreSQL or Redis, a fresh in-memory database per process.
  const { DATABASE_URL: _database, REDIS_URL: _redis, REDIS_CLUSTER_NODES: _cluster, PGLITE_DATA_DIR: _dataDir, ...inherited } = process.env;
  const service = await startService({
    name: `the service (${entry})`,
    entry: 'test/e2e/support/service-entry.ts',
    baseEnv: { ...inherited, NODE_ENV: 'test' },
    env: {
      HOLD_TTL_SECONDS: String(options.holdTtlSeconds ?? 300),
      QUEUE_MAX_ACTIVE: String(options.queueMaxActive ?? 100),
      QUEUE_ADMIT_PER_SECOND: String(options.queueAdmitPerSecond ?? 50),
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    timeoutMs: options.startTimeoutMs ?? 45_000,
  });
  let stopping = false;
  void service.child.exited.then(() => {
    // A crash mid-test shows up as "connection refused" in the browser; say why here.
    if (stopping) return;
    const { exitCode, signalCode } = service.child;
    process.stderr.write(`\n[e2e] the service (port ${service.port}) exited unexpectedly: code ${exitCode}, signal ${signalCode}\n${service.output()}\n`);
  });
  return {
    baseUrl: service.baseUrl,
    port: service.port,
    adminKey: ADMIN_KEY,
    output: () => service.output(),
    stop: () => {
      stopping = true;
      return service.stop(5_000);
    },
  };
}
