import { randomBytes } from 'node:crypto';
import { defineLuaCommand, type RedisClient } from '../../shared/redis.js';
import { ShardedChannels } from '../../shared/sharded-channels.js';
import { SEAT_MAP_VERSION_TTL_MS, seatMapChannel, seatMapVersionKey, type SeatMapVersions } from './seat-map-versions.js';

type VersionKey = [key: string];
type VersionArgs = [freshEpoch: string, ttlMs: number];

// A missing record starts at the caller's fresh epoch: after a loss, no earlier version comes back.
const CURRENT_LUA = `
local v = redis.call('HMGET', KEYS[1], 'epoch', 'n')
if v[1] then return v[1] .. '.' .. (v[2] or '0') end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'n', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return ARGV[1] .. '.0'
`;

const BUMP_LUA = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return epoch .. '.' .. n
`;

/**
 * Versions in one Redis hash per date, changes on the date's sharded channel (ShardedChannels: one
 * subscriber per instance, following the dates it has stream clients for, as the queue events do).
 */
export class RedisSeatMapVersions implements SeatMapVersions {
  readonly #current;
  readonly #bump;
  readonly #channels: ShardedChannels;
  // Epoch candidates: random per instance, numbered within it, so two are never alike.
  readonly #epochBase = randomBytes(6).toString('base64url');
  #epochs = 0;

  constructor(private readonly redis: RedisClient) {
    this.#current = defineLuaCommand<VersionKey, VersionArgs, string>(redis, 'seatMapVersion', CURRENT_LUA, 1);
    this.#bump = defineLuaCommand<VersionKey, VersionArgs, string>(redis, 'seatMapBump', BUMP_LUA, 1);
    this.#channels = new ShardedChannels(redis, seatMapChannel);
  }

  current(scheduleId: string): Promise<string> {
    return this.#current([seatMapVersionKey(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS);
  }

  async bump(scheduleId: string): Promise<string> {
    const bumped = this.#bump([seatMapVersionKey(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS);
    // Sent in the same tick, on the connection to the same slot's master: it runs after the bump, so a
    // listener that re-reads finds the new version. A lost message only waits for the streams' heartbeat.
    const published = this.#channels.publish(scheduleId, scheduleId).catch(() => undefined);
    const [version] = await Promise.all([bumped, published]);
    return version;
  }

  async subscribe(listener: (scheduleId: string) => void): Promise<void> {
    // After a lost connection the changes published meanwhile are gone: every followed date is re-read.
    this.#channels.subscribe((scheduleId) => listener(scheduleId));
  }

  follow(scheduleId: string): Promise<void> {
    return this.#channels.follow(scheduleId);
  }

  unfollow(scheduleId: string): Promise<void> {
    return this.#channels.unfollow(scheduleId);
  }

  async close(): Promise<void> {
    this.#channels.close();
  }

  #freshEpoch(): string {
    return `${this.#epochBase}-${(this.#epochs++).toString(36)}`;
  }
}
