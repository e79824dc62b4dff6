/**
 * The reference server the benchmark compares the service with: plain Fastify running, for each route,
 * the same Redis scripts and SQL statements the service runs for that request, and nothing else. No
 * schemas, no signature checks (tokens are decoded, not verified), no error mapping, no plugins.
 * Its figures are the ceiling our layers are measured against. Same env settings as the service.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import * as catalogSql from '../../src/modules/catalog/catalog.sql.js';
import * as paymentSql from '../../src/modules/payment/payment.sql.js';
import { RedisQueueEvents } from '../../src/modules/queue/queue-events.redis.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import * as sql from '../../src/modules/reservation/reservation.sql.js';
import { RedisSeatLocks } from '../../src/modules/reservation/seat-locks.redis.js';
import { seatLockKey } from '../../src/modules/reservation/seat-locks.js';
import * as walletSql from '../../src/modules/wallet/wallet.sql.js';
import type { Queryable } from '../../src/shared/db.js';
import { createRedis } from '../../src/shared/redis.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const policy = {
  maxActive: env('QUEUE_MAX_ACTIVE', 100),
  admitPerSecond: env('QUEUE_ADMIT_PER_SECOND', 50),
  activeTtlMs: env('QUEUE_ACTIVE_TTL_SECONDS', 600) * 1000,
  waitingGraceMs: env('QUEUE_WAITING_GRACE_SECONDS', 120) * 1000,
};
const holdTtlMs = env('HOLD_TTL_SECONDS', 300) * 1000;
const maxHolds = env('HOLD_MAX_PER_USER', 4);
const tokenTtlMs = env('QUEUE_TOKEN_TTL_SECONDS', 3 * 3600) * 1000;

pg.types.setTypeParser(20, Number);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: env('DATABASE_POOL_SIZE', 20) });
const prefix = process.env.REDIS_KEY_PREFIX ?? 'tix:';
const redis = createRedis(process.env.REDIS_URL!, prefix);
const room = new RedisWaitingRoom(redis, { tokenTtlMs });
const moved = new RedisQueueEvents(redis);
const locks = new RedisSeatLocks(redis);

type Claims = { sub: string; tid: string; uid: string; eid: string };
const claims = (token: string | string[] | undefined): Claims => {
  const text = String(token ?? '').replace(/^Bearer /, '');
  return JSON.parse(Buffer.from(text.slice(0, text.indexOf('.')), 'base64url').toString());
};
/** The service's statements run on a bare pg client: no pool wrapper, no error mapping. */
const queryable = (client: pg.Pool | pg.PoolClient): Queryable => ({
  query: async <Row>(text: string, params: readonly unknown[] = []) => {
    const result = await client.query(text, params as unknown[]);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  },
  exec: async (script: string) => {
    await client.query(script);
  },
});
const db = queryable(pool);
const tx = async <T>(work: (client: Queryable) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(queryable(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
};
class Refusal {
  constructor(readonly status: number, readonly code: string) {}
}

const app = Fastify();
app.setErrorHandler((error, request, reply) => {
  if (error instanceof Refusal) return reply.code(error.status).send({ code: error.code });
  console.error(`${request.method} ${request.url}:`, error);
  return reply.code(500).send({ code: 'INTERNAL' });
});
app.get('/health', async () => ({ status: 'ok' }));

/** One entry's state through the touch script (the service's adapter call, for one token). */
const touch = async (eventId: string, userId: string, tokenId: string) =>
  (await room.touch(eventId, [{ userId, tokenId }], undefined, policy))[0]!;

/** The queue guard: the entry must be live and ACTIVE (one touch script, as in the service). */
const admitted = async (token: Claims) => {
  const state = await touch(token.eid, token.uid, token.tid);
  if (state.status === 'WAITING') throw new Refusal(403, 'QUEUE_NOT_ADMITTED');
  if (state.status !== 'ACTIVE') throw new Refusal(401, 'QUEUE_TOKEN_EXPIRED');
};

app.post('/api/v1/queue/tokens', async (request, reply) => {
  const userId = claims(request.headers.authorization).sub;
  const eventId = (request.body as { eventId: string }).eventId;
  const { ticket, created } = await room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: tokenTtlMs }, undefined);
  if (created) {
    const step = await room.admit(eventId, undefined, policy);
    if (step.admitted.length > 0 || step.dropped > 0) await moved.publish(eventId);
  }
  const state = await touch(eventId, userId, ticket.tokenId);
  const token = `${Buffer.from(JSON.stringify({ tid: ticket.tokenId, uid: userId, eid: eventId })).toString('base64url')}.`;
  return reply.code(201).send({ token, status: state.status, position: state.status === 'WAITING' ? state.position : 0 });
});

app.get('/api/v1/queue/tokens/current', async (request) => {
  const token = claims(request.headers['x-queue-token']);
  const state = await touch(token.eid, token.uid, token.tid);
  return { status: state.status, position: state.status === 'WAITING' ? state.position : 0 };
});

app.get('/api/v1/schedules/:id/seats', async (request) => {
  await admitted(claims(request.headers['x-queue-token']));
  return catalogSql.listSeats.rows(db, { scheduleId: (request.params as { id: string }).id, now: null });
});

app.post('/api/v1/reservations', async (request, reply) => {
  const userId = claims(request.headers.authorization).sub;
  await admitted(claims(request.headers['x-queue-token']));
  const { scheduleId, seatNumber } = request.body as { scheduleId: string; seatNumber: number };
  // Like the service: the stores' own clocks decide (null / undefined), never this process's.
  const now = null;
  const id = randomUUID();
  const key = seatLockKey(scheduleId, seatNumber);
  if (!(await locks.acquire(key, id, undefined, holdTtlMs))) throw new Refusal(409, 'SEAT_UNAVAILABLE');
  try {
    const seat = await tx(async (client) => {
      await sql.lockUser.count(client, { userId });
      const holds = await sql.countLiveHolds.first(client, { userId, now });
      if (holds!.holds >= maxHolds) throw new Refusal(409, 'HOLD_LIMIT_REACHED');
      const held = await sql.holdSeat.first(client, { scheduleId, seatNumber, userId, now, holdMs: holdTtlMs });
      if (!held) throw new Refusal(409, 'SEAT_UNAVAILABLE');
      await sql.expireLapsedReservation.count(client, { seatId: held.id, now });
      await sql.insertReservation.count(client, { reservationId: id, userId, seatId: held.id, scheduleId, price: held.price, reservedAt: held.heldAt, expiresAt: held.expiresAt });
      return held;
    });
    return reply.code(201).send({ id, scheduleId, seatNumber, status: 'PENDING', price: seat.price, expiresAt: seat.expiresAt });
  } catch (error) {
    await locks.release(key, id);
    throw error;
  }
});

app.post('/api/v1/payments', async (request, reply) => {
  const userId = claims(request.headers.authorization).sub;
  const token = claims(request.headers['x-queue-token']);
  await admitted(token);
  const reservationId = (request.body as { reservationId: string }).reservationId;
  const now = null;
  const payment = await tx(async (client) => {
    const reservation = await sql.findReservation.first(client, { reservationId, now });
    if (!reservation || reservation.userId !== userId) throw new Refusal(404, 'NOT_FOUND');
    await sql.lockSeat.count(client, { seatId: reservation.seatId });
    const state = await sql.lockReservation.first(client, { reservationId: reservation.id, now });
    if (state!.status !== 'PENDING' || state!.expiresAt <= state!.now) throw new Refusal(409, 'RESERVATION_NOT_PAYABLE');
    const paymentId = randomUUID();
    if (reservation.price > 0) {
      if ((await walletSql.debit.count(client, { userId, amount: reservation.price })) === 0) throw new Refusal(402, 'INSUFFICIENT_BALANCE');
      await walletSql.appendLedger.count(client, { userId, amount: -reservation.price, kind: 'PAYMENT', reference: paymentId });
    }
    const paid = await paymentSql.insertPayment.first(client, {
      paymentId,
      userId,
      reservationId: reservation.id,
      amount: reservation.price,
      status: 'SUCCEEDED',
      failureCode: null,
      debitId: paymentId,
      now,
    });
    await sql.confirmReservation.count(client, { reservationId: reservation.id, now });
    await sql.sellSeat.count(client, { seatId: reservation.seatId, userId, now });
    return paid;
  });
  await room.complete(token.eid, token.uid, token.tid);
  return reply.code(201).send(payment);
});

// The admission scheduler, as the service runs it: one step per event with a line, never overlapping.
let admitting = false;
const admission = setInterval(async () => {
  if (admitting) return;
  admitting = true;
  try {
    for (const eventId of await room.events(Date.now() - tokenTtlMs)) {
      const step = await room.admit(eventId, undefined, policy);
      if (step.admitted.length > 0 || step.dropped > 0) await moved.publish(eventId);
    }
  } finally {
    admitting = false;
  }
}, env('QUEUE_ADMIT_INTERVAL_MS', 250));

await app.listen({ port: env('PORT', 3000), host: process.env.HOST ?? '127.0.0.1' });
process.once('SIGTERM', async () => {
  clearInterval(admission);
  await app.close();
  redis.disconnect();
  await pool.end();
});
