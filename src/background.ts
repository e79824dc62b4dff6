import type { Logger } from 'pino';
import type { Database } from './shared/db.js';
import type { Clock } from './shared/clock.js';
import { purgeExpiredKeys } from './shared/idempotency.js';
import type { Services } from './services.js';

/** How soon a seat map version bump that failed after its commit is tried again. */
const SEAT_MAP_BUMP_RETRY_MS = 500;

export interface BackgroundJobs {
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never overlapping itself; a failing run is logged and retried next tick.
 * Every instance runs every job: each is safe to run concurrently (Lua admission, SKIP LOCKED sweeps).
 */
function every(intervalMs: number, name: string, log: Logger, task: () => Promise<unknown>) {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .then(() => undefined)
      .catch((error: unknown) => log.warn({ err: error, job: name }, 'background job failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export function startBackgroundJobs(services: Services, db: Database, clock: Clock, log: Logger): BackgroundJobs {
  const { config, queue, operations, reservations, refunds, seatMaps } = services;
  const stops = [
    every(config.QUEUE_ADMIT_INTERVAL_MS, 'admission', log, async () => {
      // One read of the lines for both: the sale's operations, then the admission steps.
      const lines = await queue.events();
      await operations.tick(lines);
      await queue.admitAll(lines);
    }),
    every(SEAT_MAP_BUMP_RETRY_MS, 'seat-map-bumps', log, () => seatMaps.retryOwedBumps()),
    every(config.HOLD_SWEEP_INTERVAL_MS, 'hold-sweeper', log, async () => {
      const released = await reservations.sweepLapsedHolds();
      if (released > 0) log.info({ released }, 'released lapsed holds');
      if ((await refunds.resumeCanceledSchedules()) > 0) log.info('finished canceling dates a stopped process left half done');
      await purgeExpiredKeys.count(db, { now: clock.pinned(), limit: 1_000 });
    }),
  ];
  return {
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
