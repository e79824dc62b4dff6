import { defineLuaCommand, LUA_CLOCK, pinnedArg, type LuaArgument, type RedisClient } from '../../shared/redis.js';
import type { SeatLocks } from './seat-locks.js';

type LockKey = [key: string];

// Value "owner|deadline". PX makes Redis forget the key eventually; the deadline decides when it stops counting.
type AcquireArgs = [owner: string, now: LuaArgument, ttlMs: number];
const ACQUIRE_LUA = `${LUA_CLOCK}
local now = clock(ARGV[2])
local current = redis.call('GET', KEYS[1])
if current and tonumber(string.match(current, '|(%d+)$')) > now then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. (now + tonumber(ARGV[3])), 'PX', ARGV[3])
return 1
`;

// The same test as ACQUIRE_LUA's, without taking the lock.
type TakenArgs = [now: LuaArgument];
const TAKEN_LUA = `${LUA_CLOCK}
local current = redis.call('GET', KEYS[1])
if current and tonumber(string.match(current, '|(%d+)$')) > clock(ARGV[1]) then return 1 end
return 0
`;

// A sold marker is "sold:owner|deadline": acquire reads only the deadline, and release never matches it.
// The key's PX is the time left until the date's end plus SOLD_MARKER_MARGIN_MS, at most SOLD_MARKER_MAX_TTL_MS.
type MarkSoldArgs = [owner: string, untilMs: number, now: LuaArgument, marginMs: number, maxTtlMs: number];
const MARK_SOLD_LUA = `${LUA_CLOCK}
local now, until_ms = clock(ARGV[3]), tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
if current and tonumber(string.match(current, '|(%d+)$')) > now
  and string.match(current, '^([^|]+)') ~= ARGV[1] then return 0 end
local ttl = math.min(math.max(until_ms - now, 0) + tonumber(ARGV[4]), tonumber(ARGV[5]))
redis.call('SET', KEYS[1], 'sold:' .. ARGV[1] .. '|' .. until_ms, 'PX', ttl)
return 1
`;

type ReleaseArgs = [owner: string];
const RELEASE_LUA = `
local current = redis.call('GET', KEYS[1])
if current and string.match(current, '^([^|]+)') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Redis may keep the marker a little past the date's end: the deadline in the value decides, not PX. */
export const SOLD_MARKER_MARGIN_MS = 3_600_000;
/**
 * A date years away (or a mistyped end) must not pin keys for years; past the cap a sold seat is
 * refused by the database alone, long after the rush for it has passed.
 */
export const SOLD_MARKER_MAX_TTL_MS = 366 * 86_400_000;

export class RedisSeatLocks implements SeatLocks {
  readonly #acquire;
  readonly #taken;
  readonly #release;
  readonly #markSold;

  constructor(redis: RedisClient) {
    this.#acquire = defineLuaCommand<LockKey, AcquireArgs, 0 | 1>(redis, 'seatLockAcquire', ACQUIRE_LUA, 1);
    this.#taken = defineLuaCommand<LockKey, TakenArgs, 0 | 1>(redis, 'seatLockTaken', TAKEN_LUA, 1);
    this.#release = defineLuaCommand<LockKey, ReleaseArgs, 0 | 1>(redis, 'seatLockRelease', RELEASE_LUA, 1);
    this.#markSold = defineLuaCommand<LockKey, MarkSoldArgs, 0 | 1>(redis, 'seatLockMarkSold', MARK_SOLD_LUA, 1);
  }

  async acquire(key: string, owner: string, now: number | undefined, ttlMs: number): Promise<boolean> {
    return (await this.#acquire([key], owner, pinnedArg(now), ttlMs)) === 1;
  }

  async isTaken(key: string, now: number | undefined): Promise<boolean> {
    return (await this.#taken([key], pinnedArg(now))) === 1;
  }

  async release(key: string, owner: string): Promise<void> {
    await this.#release([key], owner);
  }

  async markSold(key: string, owner: string, untilMs: number, now: number | undefined): Promise<boolean> {
    return (await this.#markSold([key], owner, untilMs, pinnedArg(now), SOLD_MARKER_MARGIN_MS, SOLD_MARKER_MAX_TTL_MS)) === 1;
  }

  /** A sold marker's first field is `sold:owner`, so releasing that name removes the marker and nothing else. */
  async reopen(key: string, owner: string): Promise<void> {
    await this.#release([key], `sold:${owner}`);
  }
}
