import { LuaScript, type Redis } from '../../shared/redis.js';
import {
  ADMISSION_LOG_LIMIT,
  type AdmissionPolicy,
  type AdmissionStep,
  type EntryRef,
  type QueueState,
  type QueueTicket,
  type WaitingRoom,
} from './waiting-room.js';

/**
 * Keys of one event share the `{eventId}` hash tag, so on Redis Cluster every script touches one slot.
 * tickets: hash userId → "tokenId|seq|issuedAt|expiresAt" (the user's one live ticket)
 * waiting: zset userId by seq · seen: zset userId by last poll · active: zset userId by idle deadline
 * rate: hash {window, used} · admitted: list of seqs in admission order (capped) · admitted-total: counter
 * seq: join counter
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
/** zset eventId by its latest join: the lines that may still hold live tickets. */
const LINES_KEY = 'q:lines';

const joinScript = new LuaScript<[number, string]>(
  `
local tickets, active, waiting, seen, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user, now = ARGV[1], tonumber(ARGV[5])
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
local ticket = ARGV[2] .. '|' .. n .. '|' .. ARGV[3] .. '|' .. ARGV[4]
redis.call('HSET', tickets, user, ticket)
redis.call('ZADD', waiting, n, user)
redis.call('ZADD', seen, now, user)
return {1, ticket}
`,
  5,
);

/** Answers per entry: -1 expired, 0 active, n > 0 waiting at position n. */
const touchScript = new LuaScript<number[]>(
  `
local tickets, active, waiting, seen = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, active_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local result = {}
for i = 3, #ARGV, 2 do
  local user, token = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', tickets, user)
  local answer = -1
  if current and string.match(current, '^([^|]+)') == token then
    local deadline = redis.call('ZSCORE', active, user)
    if deadline then
      if tonumber(deadline) > now then
        redis.call('ZADD', active, 'GT', now + active_ttl, user)
        answer = 0
      end
    else
      local rank = redis.call('ZRANK', waiting, user)
      if rank then
        redis.call('ZADD', seen, 'XX', 'GT', now, user)
        answer = rank + 1
      end
    end
  end
  result[#result + 1] = answer
end
return result
`,
  4,
);

const admitScript = new LuaScript<[string[], number, number]>(
  `
local active, waiting, seen, tickets, rate, admitted, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now, max_active, per_second = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local active_ttl, grace, log_limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local dropped = 0
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
local n = math.min(max_active - redis.call('ZCARD', active), per_second - used)
if n <= 0 then return {{}, dropped, tonumber(redis.call('GET', total) or 0)} end
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
  return {result, dropped, redis.call('INCRBY', total, #result)}
end
return {result, dropped, tonumber(redis.call('GET', total) or 0)}
`,
  7,
);

const completeScript = new LuaScript<number>(
  `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or string.match(current, '^([^|]+)') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
`,
  4,
);

function parseTicket(eventId: string, userId: string, encoded: string): QueueTicket {
  const [tokenId, seq, issuedAt, expiresAt] = encoded.split('|');
  return { tokenId: tokenId!, userId, eventId, seq: Number(seq), issuedAt: Number(issuedAt), expiresAt: Number(expiresAt) };
}

export class RedisWaitingRoom implements WaitingRoom {
  constructor(private readonly redis: Redis) {}

  async join(candidate: Omit<QueueTicket, 'seq'>, now: number) {
    const k = keysOf(candidate.eventId);
    const [created, encoded] = await joinScript.run(
      this.redis,
      [k.tickets, k.active, k.waiting, k.seen, k.seq],
      [candidate.userId, candidate.tokenId, candidate.issuedAt, candidate.expiresAt, now],
    );
    // Every new entry records its event's latest join; after a Redis restart emptied the index, the
    // admission scheduler finds the event again with the next join.
    if (created === 1) await this.redis.zadd(LINES_KEY, 'GT', now, candidate.eventId);
    return { ticket: parseTicket(candidate.eventId, candidate.userId, encoded), created: created === 1 };
  }

  async touch(eventId: string, entries: readonly EntryRef[], now: number, policy: AdmissionPolicy): Promise<QueueState[]> {
    const k = keysOf(eventId);
    const answers = await touchScript.run(
      this.redis,
      [k.tickets, k.active, k.waiting, k.seen],
      [now, policy.activeTtlMs, ...entries.flatMap((entry) => [entry.userId, entry.tokenId])],
    );
    return answers.map((answer): QueueState => {
      if (answer === 0) return { status: 'ACTIVE' };
      if (answer > 0) return { status: 'WAITING', position: answer };
      return { status: 'EXPIRED' };
    });
  }

  async admit(eventId: string, now: number, policy: AdmissionPolicy): Promise<AdmissionStep> {
    const k = keysOf(eventId);
    const [admitted, dropped, admittedTotal] = await admitScript.run(
      this.redis,
      [k.active, k.waiting, k.seen, k.tickets, k.rate, k.admitted, k.admittedTotal],
      [now, policy.maxActive, policy.admitPerSecond, policy.activeTtlMs, policy.waitingGraceMs, ADMISSION_LOG_LIMIT],
    );
    return { admitted, dropped, admittedTotal };
  }

  async complete(eventId: string, userId: string, tokenId: string): Promise<void> {
    const k = keysOf(eventId);
    await completeScript.run(this.redis, [k.tickets, k.active, k.waiting, k.seen], [userId, tokenId]);
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
