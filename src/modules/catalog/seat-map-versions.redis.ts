import { randomBytes } from 'node:crypto';
import { defineLuaCommand, isCluster, subscriberFor, type RedisClient } from '../../shared/redis.js';
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

const RESUBSCRIBE_DELAY_MS = 500;

/**
 * Versions in one Redis hash per date, changes on the date's sharded channel. The subscriber is one
 * client per instance, following the dates it has stream clients for, as the queue events do.
 */
export class RedisSeatMapVersions implements SeatMapVersions {
  readonly #current;
  readonly #bump;
  readonly #keyPrefix: string;
  // Epoch candidates: random per instance, numbered within it, so two are never alike.
  readonly #epochBase = randomBytes(6).toString('base64url');
  #epochs = 0;
  readonly #listeners: ((scheduleId: string) => void)[] = [];
  readonly #followed = new Map<string, Promise<void>>();
  #subscriber: RedisClient | undefined;
  #closed = false;

  constructor(private readonly redis: RedisClient) {
    this.#current = defineLuaCommand<VersionKey, VersionArgs, string>(redis, 'seatMapVersion', CURRENT_LUA, 1);
    this.#bump = defineLuaCommand<VersionKey, VersionArgs, string>(redis, 'seatMapBump', BUMP_LUA, 1);
    this.#keyPrefix = redis.options.keyPrefix ?? '';
  }

  current(scheduleId: string): Promise<string> {
    return this.#current([seatMapVersionKey(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS);
  }

  async bump(scheduleId: string): Promise<string> {
    const bumped = this.#bump([seatMapVersionKey(scheduleId)], this.#freshEpoch(), SEAT_MAP_VERSION_TTL_MS);
    // Sent in the same tick, on the connection to the same slot's master: it runs after the bump, so a
    // listener that re-reads finds the new version. A lost message only waits for the streams' heartbeat.
    const published = this.redis.spublish(seatMapChannel(scheduleId), scheduleId).catch(() => undefined);
    const [version] = await Promise.all([bumped, published]);
    return version;
  }

  async subscribe(listener: (scheduleId: string) => void): Promise<void> {
    this.#listeners.push(listener);
    this.#subscriberClient();
  }

  follow(scheduleId: string): Promise<void> {
    let subscribed = this.#followed.get(scheduleId);
    if (!subscribed) {
      subscribed = this.#ssubscribe(scheduleId);
      this.#followed.set(scheduleId, subscribed);
    }
    return subscribed;
  }

  async unfollow(scheduleId: string): Promise<void> {
    if (!this.#followed.delete(scheduleId)) return;
    await this.#subscriber?.sunsubscribe(this.#channel(scheduleId)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#followed.clear();
    this.#subscriber?.disconnect();
  }

  #freshEpoch(): string {
    return `${this.#epochBase}-${(this.#epochs++).toString(36)}`;
  }

  /** The subscriber has no key prefix (see subscriberFor), so it is given full channel names. */
  #channel(scheduleId: string): string {
    return this.#keyPrefix + seatMapChannel(scheduleId);
  }

  #subscriberClient(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = subscriberFor(this.redis);
    subscriber.on('error', () => undefined);
    subscriber.on('smessage', (channel: string, scheduleId: string) => {
      if (!this.#followed.has(scheduleId) || channel !== this.#channel(scheduleId)) return;
      for (const listener of this.#listeners) listener(scheduleId);
    });
    // Changes published while the connection was down are lost: once it is back, every followed date
    // counts as changed, so its streams re-read instead of waiting for their heartbeat.
    let lost = false;
    subscriber.on(isCluster(subscriber) ? '-node' : 'close', () => (lost = true));
    subscriber.on(isCluster(subscriber) ? 'subscribersReady' : 'ready', () => {
      if (!lost) return;
      lost = false;
      for (const scheduleId of this.#followed.keys()) for (const listener of this.#listeners) listener(scheduleId);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /** A subscription refused before the server confirmed it (Redis down, a shard without a master) is asked for again. */
  async #ssubscribe(scheduleId: string): Promise<void> {
    for (;;) {
      try {
        await this.#subscriberClient().ssubscribe(this.#channel(scheduleId));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
        if (this.#closed || !this.#followed.has(scheduleId)) return;
      }
    }
  }
}
