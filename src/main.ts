import pino from 'pino';
import { buildApp } from './app.js';
import { startBackgroundJobs } from './background.js';
import { ConfigError, loadConfig } from './config.js';
import { openInfrastructure } from './infrastructure.js';
import { seedDemoData } from './seed.js';
import { createServices } from './services.js';

/** Composition root: config → database and queue store → services → HTTP → listen; orderly shutdown. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = pino({
    level: config.LOG_LEVEL,
    serializers: {
      // Event streams carry the queue token in the query string; it must not reach the logs.
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        url: request.url.replace(/([?&]token=)[^&]*/, '$1[redacted]'),
        remoteAddress: request.ip,
      }),
    },
  });
  for (const name of config.generated) {
    log.warn(`${name} is not set; using a random value for this process only (set it when running several instances)`);
  }
  if (!config.DATABASE_URL) log.info('DATABASE_URL not set: running on embedded PGlite (data kept in memory unless PGLITE_DATA_DIR is set)');
  if (!config.REDIS_URL) log.info('REDIS_URL not set: waiting room and seat locks run in-process (single instance only)');

  const infra = await openInfrastructure(config, log);
  const services = createServices(infra, log);
  if (config.SEED_DEMO && (await seedDemoData(infra.db, services.catalog))) log.info('seeded the demo event');
  if (config.generated.includes('ADMIN_API_KEY')) log.warn({ adminApiKey: config.ADMIN_API_KEY }, 'generated admin key');

  const app = await buildApp(services, { logger: log, redis: infra.redis });
  const jobs = startBackgroundJobs(services, infra.db, infra.clock, log);
  await app.listen({ port: config.PORT, host: config.HOST });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const forced = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    forced.unref();
    await app.close();
    await jobs.stop();
    await infra.close();
    log.info('stopped');
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
