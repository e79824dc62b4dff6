/**
 * The reference server the benchmark compares the service with: the essential store work of each
 * request and nothing else, as lean as a hand-written server gets. A join is one Lua script (register
 * the ticket, admit it while there is room, else line it up) and an HMAC to sign the token; a seat map
 * is one SELECT (the service's statement); a hold is one SET NX on the seat's lock and, for the one
 * request that gets it, one statement: the service's conditional seat UPDATE, with the reservation
 * INSERT in the same statement so the invariant checker finds every held seat's reservation. No token
 * checks (a bearer is decoded, never verified), no queue guard, no per-user cap, no rate limiter, no
 * schemas, no security headers, no error mapping, no metrics: a measuring stick, never a server to deploy.
 * Scenarios 1-3 only; the full sale is measured against the PostgreSQL floor (bench/floor/).
 */
import { createHmac, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { listSeats } from '../../src/modules/catalog/catalog.sql.js';
import { holdSeat } from '../../src/modules/reservation/reservation.sql.js';
import { seatLockKey } from '../../src/modules/reservation/seat-locks.js';
import { statement } from '../../src/shared/sql.js';
import { createRedis } from '../../src/shared/redis.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const maxActive = env('QUEUE_MAX_ACTIVE', 100);
const activeTtlMs = env('QUEUE_ACTIVE_TTL_SECONDS', 600) * 1000;
const holdTtlMs = env('HOLD_TTL_SECONDS', 300) * 1000;
const secret = process.env.TOKEN_SECRET ?? randomUUID();

pg.types.setTypeParser(20, Number);
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: env('DATABASE_POOL_SIZE', 20) });
const redis = createRedis(process.env.REDIS_URL!, process.env.REDIS_KEY_PREFIX ?? 'tix:');

// KEYS: tickets (user -> token id), admitted (token id -> idle deadline), line (token id -> join order), sequence.
const JOIN_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local token = redis.call('HGET', KEYS[1], ARGV[1])
if token then
  if redis.call('ZSCORE', KEYS[2], token) then return {token, 'ACTIVE', 0} end
  return {token, 'WAITING', (redis.call('ZRANK', KEYS[3], token) or 0) + 1}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
  return {ARGV[2], 'ACTIVE', 0}
end
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[2])
return {ARGV[2], 'WAITING', redis.call('ZCARD', KEYS[3])}
`;
redis.defineCommand('baselineJoin', { lua: JOIN_LUA, numberOfKeys: 4 });
const join = (redis as unknown as { baselineJoin: (...args: (string | number)[]) => Promise<[string, string, number]> }).baselineJoin.bind(redis);

/** The service's conditional seat UPDATE, and the reservation of the seat it took, in one statement. */
const holdAndRecord = statement<
  { reservationId: string; scheduleId: string; seatNumber: number; userId: string; holdMs: number; now: null },
  { price: number; expiresAt: Date }
>(`
  WITH held AS (${holdSeat.source})
  INSERT INTO reservations (id, user_id, seat_id, schedule_id, price, status, reserved_at, expires_at)
  SELECT :reservationId, :userId, id, :scheduleId, price, 'PENDING', "heldAt", "expiresAt" FROM held
  RETURNING price, expires_at AS "expiresAt"`);

const queryable = {
  query: async <Row>(text: string, params: readonly unknown[] = []) => {
    const result = await db.query(text, params as unknown[]);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  },
  exec: async (script: string) => void (await db.query(script)),
};

/** The user a bearer token names, read without checking its signature. */
const userOf = (authorization: string | undefined): string => {
  const token = String(authorization ?? '').slice('Bearer '.length);
  return (JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString()) as { sub: string }).sub;
};

const app = Fastify();
app.get('/health', async () => ({ status: 'ok' }));

app.post('/api/v1/queue/tokens', async (request, reply) => {
  const userId = userOf(request.headers.authorization);
  const { eventId } = request.body as { eventId: string };
  const line = `bq:{${eventId}}:`;
  const [tokenId, status, position] = await join(`${line}tickets`, `${line}admitted`, `${line}line`, `${line}seq`, userId, randomUUID(), maxActive, activeTtlMs);
  const claims = Buffer.from(JSON.stringify({ tid: tokenId, uid: userId, eid: eventId })).toString('base64url');
  const token = `${claims}.${createHmac('sha256', secret).update(claims).digest('base64url')}`;
  return reply.code(201).send({ token, status, position });
});

app.get('/api/v1/schedules/:id/seats', async (request) =>
  listSeats.rows(queryable, { scheduleId: (request.params as { id: string }).id, now: null }),
);

app.post('/api/v1/reservations', async (request, reply) => {
  const userId = userOf(request.headers.authorization);
  const { scheduleId, seatNumber } = request.body as { scheduleId: string; seatNumber: number };
  const reservationId = randomUUID();
  const key = seatLockKey(scheduleId, seatNumber);
  if ((await redis.set(key, reservationId, 'PX', holdTtlMs, 'NX')) === null) return reply.code(409).send({ code: 'SEAT_UNAVAILABLE' });
  const held = await holdAndRecord.first(queryable, { reservationId, scheduleId, seatNumber, userId, holdMs: holdTtlMs, now: null });
  if (!held) {
    await redis.del(key);
    return reply.code(409).send({ code: 'SEAT_UNAVAILABLE' });
  }
  return reply.code(201).send({ id: reservationId, scheduleId, seatNumber, status: 'PENDING', price: held.price, expiresAt: held.expiresAt });
});

await app.listen({ port: env('PORT', 3000), host: process.env.HOST ?? '127.0.0.1' });
process.once('SIGTERM', async () => {
  await app.close();
  redis.disconnect();
  await db.end();
});
