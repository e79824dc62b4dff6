import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ReadinessChecks } from './http/health.routes.js';
import type { Infrastructure } from './infrastructure.js';
import { TokenSigner } from './shared/signed-token.js';
import { CatalogService } from './modules/catalog/catalog.service.js';
import { SeatMapCache } from './modules/catalog/seat-map-cache.js';
import { SeatMapStreamHub } from './modules/catalog/seat-map-stream.js';
import { PaymentService } from './modules/payment/payment.service.js';
import { QueueStreamHub } from './modules/queue/queue-stream.js';
import { QueueService } from './modules/queue/queue.service.js';
import { SaleOperations } from './modules/operations/operations.service.js';
import { RefundService } from './modules/refund/refund.service.js';
import { ReservationService } from './modules/reservation/reservation.service.js';
import { SalesService } from './modules/sales/sales.service.js';
import { UserService } from './modules/users/users.service.js';
import { WalletService } from './modules/wallet/wallet.service.js';

export interface Services {
  config: Config;
  users: UserService;
  catalog: CatalogService;
  queue: QueueService;
  operations: SaleOperations;
  reservations: ReservationService;
  wallet: WalletService;
  payments: PaymentService;
  refunds: RefundService;
  sales: SalesService;
  queueStreams: QueueStreamHub;
  seatMaps: SeatMapCache;
  seatMapStreams: SeatMapStreamHub;
  checks: ReadinessChecks;
}

/** Every service of one running instance, wired together; only the composition root sees all of them. */
export function createServices(infra: Infrastructure, log: Logger): Services {
  const { config, db, clock } = infra;
  const signer = new TokenSigner(config.TOKEN_SECRET);
  const wallet = new WalletService(db, clock);
  const users = new UserService(db, wallet, signer, clock, config.ACCESS_TOKEN_TTL_SECONDS * 1000);
  const catalog = new CatalogService(db, clock);
  const seatMaps = new SeatMapCache(db, clock, infra.seatMapVersions, { maxAgeMs: config.SEAT_MAP_CACHE_MAX_AGE_MS, maxDates: 1_000 }, log);
  const operations = new SaleOperations({
    db,
    room: infra.waitingRoom,
    clock,
    announce: (eventId) => queue.announce(eventId),
    defaults: {
      maxActive: config.QUEUE_MAX_ACTIVE,
      admitPerSecond: config.QUEUE_ADMIT_PER_SECOND,
      activePerSeat: config.QUEUE_ACTIVE_PER_SEAT,
    },
    settingsMaxAgeMs: config.QUEUE_ADMIT_INTERVAL_MS,
    log,
  });
  const queue: QueueService = new QueueService({
    room: infra.waitingRoom,
    events: infra.queueEvents,
    signer,
    clock,
    lifetimes: {
      activeTtlMs: config.QUEUE_ACTIVE_TTL_SECONDS * 1000,
      waitingGraceMs: config.QUEUE_WAITING_GRACE_SECONDS * 1000,
    },
    settings: operations,
    tokenTtlMs: config.QUEUE_TOKEN_TTL_SECONDS * 1000,
    joinLimit: { max: config.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE, windowMs: 60_000 },
    ensureEventOpen: (eventId) => catalog.ensureEventOpen(eventId),
    log,
  });
  const reservations = new ReservationService(
    db,
    infra.seatLocks,
    clock,
    { holdTtlMs: config.HOLD_TTL_SECONDS * 1000, maxHoldsPerUser: config.HOLD_MAX_PER_USER },
    log,
    seatMaps,
  );
  const payments = new PaymentService(db, clock, reservations, queue, config.HOLD_MAX_PER_USER, seatMaps);
  const refunds = new RefundService(db, clock, reservations, wallet, infra.queueEvents, { refundCutoffMs: config.REFUND_CUTOFF_SECONDS * 1000 }, log, seatMaps);
  const queueStreams = new QueueStreamHub(
    queue,
    infra.queueEvents,
    { heartbeatMs: config.QUEUE_STREAM_HEARTBEAT_MS, streamsPerToken: config.QUEUE_STREAMS_PER_TOKEN },
    log,
  );
  const sales = new SalesService(db, clock);
  const seatMapStreams = new SeatMapStreamHub(
    seatMaps,
    infra.seatMapVersions,
    { admitted: async (eventId, tokens) => (await queue.currentMany(eventId, tokens)).views.map((view) => view?.status === 'ACTIVE') },
    clock,
    { heartbeatMs: config.SEAT_MAP_STREAM_HEARTBEAT_MS, streamsPerToken: config.SEAT_MAP_STREAMS_PER_TOKEN },
    log,
  );
  return { config, users, catalog, queue, operations, reservations, wallet, payments, refunds, sales, queueStreams, seatMaps, seatMapStreams, checks: infra.checks };
}
