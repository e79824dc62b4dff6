/**
 * Three service instances behind nginx (deploy/nginx/ticketing.conf, rendered by tools/nginx.ts into a
 * temporary prefix) on fixed ports, for poking at by hand:
 *
 *   npx tsx scripts/multi-instance/run.ts
 *
 * Uses its own PostgreSQL database (created if missing) and Redis key prefix, so it never touches the
 * data of a normal run or of the tests. Ctrl-C stops everything. Override with MULTI_ADMIN_URL
 * (PostgreSQL server, default postgres://postgres@127.0.0.1:5432/postgres), MULTI_DATABASE
 * (ticketing_multi), REDIS_URL (redis://127.0.0.1:6379), MULTI_PORT (nginx's port, 3100;
 * instances on the next three) and any service setting (QUEUE_MAX_ACTIVE, ...) in the environment.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startNginx } from '../../tools/nginx.js';
import { startService, stopAll, type ServiceProcess } from '../../tools/processes.js';

const adminUrl = process.env.MULTI_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseName = process.env.MULTI_DATABASE ?? 'ticketing_multi';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const basePort = Number(process.env.MULTI_PORT ?? 3100);
const INSTANCES = 3;

if (!/^[a-z_][a-z0-9_]*$/.test(databaseName)) throw new Error(`MULTI_DATABASE must be a plain identifier, got ${databaseName}`);

async function ensureDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

const passThrough = Object.fromEntries(
  Object.entries(process.env).filter(([name, value]) => /^(QUEUE_|HOLD_|DATABASE_POOL|LOG_LEVEL)/.test(name) && value),
) as Record<string, string>;

const env = {
  DATABASE_URL: await ensureDatabase(),
  DATABASE_POOL_SIZE: '10',
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: 'multi:',
  TOKEN_SECRET: process.env.TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
  ADMIN_API_KEY: process.env.ADMIN_API_KEY ?? randomBytes(32).toString('base64url'),
  LOG_LEVEL: 'warn',
  QUEUE_MAX_ACTIVE: '5',
  QUEUE_ADMIT_INTERVAL_MS: '250',
  // nginx is the one hop that names the client, as in the deployment example.
  TRUST_PROXY: '1',
  ...passThrough,
};

const startInstance = (index: number, seedDemo: boolean) =>
  startService({ name: `instance-${index}`, port: basePort + 1 + index, env: { ...env, SEED_DEMO: String(seedDemo) }, readyPath: '/ready' });
const instances: ServiceProcess[] = [];
// The first instance migrates and seeds the demo event alone; the others start once it is up.
instances.push(await startInstance(0, true));
instances.push(...(await Promise.all(Array.from({ length: INSTANCES - 1 }, (_, i) => startInstance(i + 1, false)))));
const nginx = await startNginx({ upstreams: instances.map((instance) => `127.0.0.1:${instance.port}`), port: basePort });
for (const instance of instances) {
  instance.child.process.stdout!.on('data', (chunk: Buffer) => process.stdout.write(`[${instance.name}] ${chunk}`));
  instance.child.process.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${instance.name}] ${chunk}`));
  void instance.child.exited.then(() => {
    if (!stopping) console.error(`${instance.name} exited unexpectedly (${instance.child.exitCode ?? instance.child.signalCode})`);
  });
}

console.log(`
nginx         ${nginx.url}   (deploy/nginx/ticketing.conf; least connections, keep-alive upstreams)
Access log    ${nginx.accessLog}   (upstream= names the instance)
Instances     ${instances.map((instance) => instance.baseUrl).join('  ')}
Web UI        ${nginx.url}/        Swagger UI ${nginx.url}/docs
Metrics       ${instances.map((instance) => `${instance.baseUrl}/metrics`).join('  ')}
Database      ${env.DATABASE_URL}
Redis         ${redisUrl}  key prefix ${env.REDIS_KEY_PREFIX}
Admin key     ${env.ADMIN_API_KEY}
Queue         QUEUE_MAX_ACTIVE=${env.QUEUE_MAX_ACTIVE}, admission every ${env.QUEUE_ADMIT_INTERVAL_MS} ms on every instance

Try:  curl -s ${nginx.url}/api/v1/events
      curl -N "${nginx.url}/api/v1/queue/tokens/current/stream?token=<queue token>"
Ctrl-C stops nginx and the instances.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await nginx.stop();
  await stopAll(instances);
  console.log('stopped');
  process.exit(0);
};
// Not once: Ctrl-C reaches this process twice (from the terminal and relayed by tsx), and a second
// SIGINT without a handler would kill it halfway through stopping.
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
