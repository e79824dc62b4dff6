import { buildApp } from './app.js';
import { startBackgroundJobs } from './background.js';
import { ConfigError, fingerprint, loadConfig } from './config.js';
import { createLogger } from './http/logging.js';
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
  const log = createLogger(config.LOG_LEVEL);
  for (const name of config.generated) {
    log.warn(`${name} is not set; embedded mode generated a random value for this process only (set it to keep tokens valid across restarts)`);
  }
  if (!config.DATABASE_URL) log.info('DATABASE_URL not set: running on embedded PGlite (data kept in memory unless PGLITE_DATA_DIR is set)');
  if (!config.REDIS_URL && !config.REDIS_CLUSTER_NODES) {
    log.info('REDIS_URL not set: waiting room and seat locks run in-process (single instance only)');
  }

  const infra = await openInfrastructure(config, log);
  const services = createServices(infra, log);
  if (config.SEED_DEMO && (await seedDemoData(services.catalog, infra.clock.now()))) log.info('seeded the demo event');
  if (config.generated.includes('ADMIN_API_KEY')) {
    // The key itself stays out of the logs (they are often shipped elsewhere); set ADMIN_API_KEY to use admin endpoints.
    log.warn({ adminKeyFingerprint: fingerprint(config.ADMIN_API_KEY) }, 'generated an admin key; set ADMIN_API_KEY to choose one you can use');
  }

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
