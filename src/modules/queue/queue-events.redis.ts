import type { RedisClient } from '../../shared/redis.js';
import { ShardedChannels } from '../../shared/sharded-channels.js';
import { decodeChange, encodeChange, type LineChange, type QueueEvents } from './queue-events.js';

/** One event's channel, without the key prefix: it carries the line's `{eventId}` hash tag, so it lives on the line's shard. */
export const queueMovedChannel = (eventId: string) => `queue:moved:{${eventId}}`;

/** Moves of the line on its event's sharded channel (ShardedChannels: one subscriber per instance). */
export class RedisQueueEvents implements QueueEvents {
  readonly #channels: ShardedChannels;

  constructor(redis: RedisClient) {
    this.#channels = new ShardedChannels(redis, queueMovedChannel);
  }

  async publish(eventId: string, change: LineChange = 'line'): Promise<void> {
    await this.#channels.publish(eventId, encodeChange(eventId, change));
  }

  async subscribe(listener: (eventId: string, change: LineChange) => void): Promise<void> {
    // After a lost connection the moves published meanwhile are gone: every followed line is re-read.
    this.#channels.subscribe((eventId, message) => listener(eventId, message === undefined ? 'line' : decodeChange(message).change));
  }

  follow(eventId: string): Promise<void> {
    return this.#channels.follow(eventId);
  }

  unfollow(eventId: string): Promise<void> {
    return this.#channels.unfollow(eventId);
  }

  async close(): Promise<void> {
    this.#channels.close();
  }
}
