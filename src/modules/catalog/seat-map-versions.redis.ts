import { randomBytes } from 'node:crypto';
import { defineLuaCommand, type RedisClient } from '../../shared/redis.js';
import { ShardedChannels } from '../../shared/sharded-channels.js';
import { SEAT_MAP_VERSION_TTL_MS, seatMapChannel, seatMapVersionKey, type SeatMapVersions } from './seat-map-versions.js';

type VersionKey = [key: string];
type VersionArgs = [freshEpoch: string, ttlMs: number];
type BumpKeys = [key: string, channel: string];
type BumpArgs = [freshEpoch: string, ttlMs: number, message: string];

// A missing record starts at the caller's fresh epoch: after a loss, no earlier version comes back.
const CURRENT_LUA = `
local v = redis.call('HMGET', KEYS[1], 'epoch', 'n')
if v[1] then return v[1] .. '.' .. (v[2] or '0') end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'n', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return ARGV[1] .. '.0'
`;

// KEYS[2] is the date's channel, declared as a key so that the client prefixes it and Redis Cluster
// routes the script by it too: both carry the date's hash tag. Publishing from the script saves the
// bump a second command, and a listener that re-reads on the message finds the new version.
const BUMP_LUA = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SPUBLISH', KEYS[2], ARGV[3])
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
    this.#bump = defineLuaCommand<BumpKeys, BumpArgs, string>(redis, 'seatMapBump', BUMP_LUA, 2);
    this.#channels = new ShardedChannels(redis, seatMapChannel);
  }

  current(scheduleId: string): Promise<string> {
    return this.#current([seatMapVersionKey(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS);
  }

  /** A lost message only waits for the streams' heartbeat. */
  bump(scheduleId: string): Promise<string> {
    return this.#bump([seatMapVersionKey(scheduleId), seatMapChannel(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS, scheduleId);
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
