import { defineLuaCommand, LUA_CLOCK, pinnedArg, type LuaArgument, type RedisClient } from '../../shared/redis.js';
import { ADMISSION_LOG_LIMIT, type AdmissionPolicy, type AdmissionStep, type EntryRef, type JoinCandidate, type QueueState, type QueueTicket, type WaitingRoom } from './waiting-room.js';

/**
 * Keys of one event share the `{eventId}` hash tag, so on Redis Cluster every script touches one slot.
 * tickets: hash userId → "tokenId|seq|issuedAt|expiresAt" (the user's one live ticket)
 * waiting: zset userId by seq · seen: zset userId by last poll · active: zset userId by idle deadline
 * rate: hash {window, used} · admitted: list of seqs in admission order (capped) · admitted-total: counter
 * seq: join counter
 * Every script gets all of them, in this order, and renews all their expiries whenever it adds or
 * refreshes an entry (join, a touch of a live entry, admission), so the line lives or goes as a whole: one
 * nobody joins or touches any more disappears once the last token it issued has expired. Steps that only
 * remove entries renew nothing; they create no key that could be left without an expiry.
 */
const keysOf = (eventId: string) => {
  const base = `q:{${eventId}}`;
  return {
    tickets: `${base}:tickets`,
    waiting: `${base}:waiting`,
    seen: `${base}:seen`,
    active: `${base}:active`,
    rate: `${base}:rate`,
    admitted: `${base}:admitted`,
    admittedTotal: `${base}:admitted-total`,
    seq: `${base}:seq`,
  };
};
/** In the order the scripts unpack them (see linePrelude). */
const lineKeys = (eventId: string) => {
  const k = keysOf(eventId);
  return [k.tickets, k.waiting, k.seen, k.active, k.rate, k.admitted, k.admittedTotal, k.seq] as const;
};
type LineKeys = ReturnType<typeof lineKeys>;
/** zset eventId by its latest join: the lines that may still hold live tickets. */
const LINES_KEY = 'q:lines';

/** Past the token lifetime, so a line outlives the last token it issued even with some clock skew. */
export const LINE_EXPIRY_MARGIN_MS = 10 * 60_000;

/**
 * Names the keys, `renew_line()` resets every key's expiry to ARGV[1], the line's lifetime in ms, and
 * `clock(arg)` is the time every decision is made by: Redis's own, unless a test pinned it.
 */
const linePrelude = `${LUA_CLOCK}
local tickets, waiting, seen, active, rate, admitted, total, seq = unpack(KEYS)
local function renew_line()
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end
end
`;
/** A line script gets every key of the line and the line's lifetime as ARGV[1], then its own arguments. */
const defineLineCommand = <Args extends readonly LuaArgument[], Result>(redis: RedisClient, name: string, body: string) =>
  defineLuaCommand<LineKeys, [lineTtlMs: number, ...Args], Result>(redis, name, linePrelude + body, lineKeys('').length);

type JoinArgs = [userId: string, tokenId: string, tokenTtlMs: number, now: LuaArgument];
type JoinReply = [created: 0 | 1, ticket: string];
const JOIN_LUA = `
-- Rule: one live queue token per user and event. A live ticket is handed back, never a second one.
local user, now = ARGV[2], clock(ARGV[5])
local current = redis.call('HGET', tickets, user)
if current then
  local deadline = redis.call('ZSCORE', active, user)
  local live = (deadline and tonumber(deadline) > now) or redis.call('ZSCORE', waiting, user)
  if live and tonumber(string.match(current, '|(%d+)$')) > now then
    return {0, current}
  end
  redis.call('ZREM', active, user)
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', seen, user)
end
local n = redis.call('INCR', seq)
local ticket = ARGV[3] .. '|' .. n .. '|' .. now .. '|' .. (now + tonumber(ARGV[4]))
redis.call('HSET', tickets, user, ticket)
redis.call('ZADD', waiting, n, user)
redis.call('ZADD', seen, now, user)
renew_line()
return {1, ticket}
`;

type TouchArgs = [now: LuaArgument, activeTtlMs: number, ...userIdThenTokenId: string[]];
/** Answers per entry: -1 expired, 0 active, n > 0 waiting at position n. */
type TouchReply = number[];
const TOUCH_LUA = `
local now, active_ttl = clock(ARGV[2]), tonumber(ARGV[3])
local result = {}
local wrote = false
for i = 4, #ARGV, 2 do
  local user, token = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', tickets, user)
  local answer = -1
  if current and string.match(current, '^([^|]+)') == token then
    local deadline = redis.call('ZSCORE', active, user)
    if deadline then
      if tonumber(deadline) > now then
        redis.call('ZADD', active, 'GT', now + active_ttl, user)
        wrote = true
        answer = 0
      end
    else
      local rank = redis.call('ZRANK', waiting, user)
      if rank then
        redis.call('ZADD', seen, 'XX', 'GT', now, user)
        wrote = true
        answer = rank + 1
      end
    end
  end
  result[#result + 1] = answer
end
if wrote then renew_line() end
return result
`;

type AdmitArgs = [now: LuaArgument, maxActive: number, admitPerSecond: number, activeTtlMs: number, waitingGraceMs: number, logLimit: number];
type AdmitReply = [admitted: string[], dropped: number, admittedTotal: number];
const ADMIT_LUA = `
local now, max_active, per_second = clock(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local active_ttl, grace, log_limit = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local dropped = 0
-- Rule: the line moves. Actives idle past their TTL and waiters who stopped polling leave it.
for _, user in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', active, user)
  redis.call('HDEL', tickets, user)
  dropped = dropped + 1
end
for _, user in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - grace, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', seen, user)
  redis.call('HDEL', tickets, user)
  dropped = dropped + 1
end
local window = math.floor(now / 1000)
local state = redis.call('HMGET', rate, 'window', 'used')
local used = 0
if tonumber(state[1]) == window then used = tonumber(state[2]) end
-- Rule: capacity and the admission rate. Never more active than max_active, never more per second than per_second.
local n = math.min(max_active - redis.call('ZCARD', active), per_second - used)
if n <= 0 then return {{}, dropped, tonumber(redis.call('GET', total) or 0)} end
-- Rule: FIFO admission. The head of the line, in join order.
local head = redis.call('ZRANGE', waiting, 0, n - 1, 'WITHSCORES')
local result = {}
for i = 1, #head, 2 do
  local user = head[i]
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', seen, user)
  redis.call('ZADD', active, now + active_ttl, user)
  redis.call('RPUSH', admitted, head[i + 1])
  result[#result + 1] = user
end
if #result > 0 then
  redis.call('HSET', rate, 'window', window, 'used', used + #result)
  redis.call('LTRIM', admitted, -log_limit, -1)
  local admitted_total = redis.call('INCRBY', total, #result)
  -- Only admitting adds entries (and may create keys); a step that merely drops or idles keeps the
  -- expiry as it is, so the scheduler alone never keeps a forgotten line alive.
  renew_line()
  return {result, dropped, admitted_total}
end
return {result, dropped, tonumber(redis.call('GET', total) or 0)}
`;

type CompleteArgs = [userId: string, tokenId: string];
const COMPLETE_LUA = `
local user = ARGV[2]
local current = redis.call('HGET', tickets, user)
if not current or string.match(current, '^([^|]+)') ~= ARGV[3] then return 0 end
redis.call('HDEL', tickets, user)
redis.call('ZREM', active, user)
redis.call('ZREM', waiting, user)
redis.call('ZREM', seen, user)
return 1
`;

function parseTicket(eventId: string, userId: string, encoded: string): QueueTicket {
  const [tokenId, seq, issuedAt, expiresAt] = encoded.split('|');
  return { tokenId: tokenId!, userId, eventId, seq: Number(seq), issuedAt: Number(issuedAt), expiresAt: Number(expiresAt) };
}

export class RedisWaitingRoom implements WaitingRoom {
  readonly #lineTtlMs: number;
  readonly #join;
  readonly #touch;
  readonly #admit;
  readonly #complete;

  /** `tokenTtlMs`: how long a queue token lives (QUEUE_TOKEN_TTL_SECONDS); a line lasts that long past its last write. */
  constructor(
    private readonly redis: RedisClient,
    { tokenTtlMs }: { tokenTtlMs: number },
  ) {
    this.#lineTtlMs = tokenTtlMs + LINE_EXPIRY_MARGIN_MS;
    this.#join = defineLineCommand<JoinArgs, JoinReply>(redis, 'waitingRoomJoin', JOIN_LUA);
    this.#touch = defineLineCommand<TouchArgs, TouchReply>(redis, 'waitingRoomTouch', TOUCH_LUA);
    this.#admit = defineLineCommand<AdmitArgs, AdmitReply>(redis, 'waitingRoomAdmit', ADMIT_LUA);
    this.#complete = defineLineCommand<CompleteArgs, number>(redis, 'waitingRoomComplete', COMPLETE_LUA);
  }

  async join(candidate: JoinCandidate, now: number | undefined) {
    const [created, encoded] = await this.#join(
      lineKeys(candidate.eventId),
      this.#lineTtlMs,
      candidate.userId,
      candidate.tokenId,
      candidate.ttlMs,
      pinnedArg(now),
    );
    const ticket = parseTicket(candidate.eventId, candidate.userId, encoded);
    // Every new entry records its event's latest join (on the line's clock: the ticket's issue time);
    // after a Redis restart emptied the index, the admission scheduler finds the event again with the next join.
    if (created === 1) await this.redis.zadd(LINES_KEY, 'GT', ticket.issuedAt, candidate.eventId);
    return { ticket, created: created === 1 };
  }

  async touch(eventId: string, entries: readonly EntryRef[], now: number | undefined, policy: AdmissionPolicy): Promise<QueueState[]> {
    const answers = await this.#touch(
      lineKeys(eventId),
      this.#lineTtlMs,
      pinnedArg(now),
      policy.activeTtlMs,
      ...entries.flatMap((entry) => [entry.userId, entry.tokenId]),
    );
    return answers.map((answer): QueueState => {
      if (answer === 0) return { status: 'ACTIVE' };
      if (answer > 0) return { status: 'WAITING', position: answer };
      return { status: 'EXPIRED' };
    });
  }

  async admit(eventId: string, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    const [admitted, dropped, admittedTotal] = await this.#admit(
      lineKeys(eventId),
      this.#lineTtlMs,
      pinnedArg(now),
      policy.maxActive,
      policy.admitPerSecond,
      policy.activeTtlMs,
      policy.waitingGraceMs,
      ADMISSION_LOG_LIMIT,
    );
    return { admitted, dropped, admittedTotal };
  }

  async complete(eventId: string, userId: string, tokenId: string): Promise<void> {
    await this.#complete(lineKeys(eventId), this.#lineTtlMs, userId, tokenId);
  }

  async events(since: number): Promise<string[]> {
    await this.redis.zremrangebyscore(LINES_KEY, '-inf', since);
    return this.redis.zrangebyscore(LINES_KEY, `(${since}`, '+inf');
  }

  async stats(eventId: string) {
    const k = keysOf(eventId);
    const [waiting, active, admittedTotal] = await Promise.all([
      this.redis.zcard(k.waiting),
      this.redis.zcard(k.active),
      this.redis.get(k.admittedTotal),
    ]);
    return { waiting, active, admittedTotal: Number(admittedTotal ?? 0) };
  }

  async admissionLog(eventId: string): Promise<number[]> {
    return (await this.redis.lrange(keysOf(eventId).admitted, 0, -1)).map(Number);
  }

  async close(): Promise<void> {
    // The Redis client is shared and closed by its owner.
  }
}
