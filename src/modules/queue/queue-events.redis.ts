import type { Redis } from '../../shared/redis.js';
import type { QueueEvents } from './queue-events.js';

/**
 * Redis pub/sub fan-out: one subscriber connection per instance, however many stream clients it serves.
 * Channels are not covered by ioredis' keyPrefix, so the prefix is added here.
 */
export class RedisQueueEvents implements QueueEvents {
  readonly #channel: string;
  #subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.#channel = `${keyPrefix}queue:moved`;
  }

  async publish(eventId: string): Promise<void> {
    await this.redis.publish(this.#channel, eventId);
  }

  async subscribe(listener: (eventId: string) => void): Promise<void> {
    if (!this.#subscriber) {
      // The subscription may wait for Redis (start-up, restart): no request waits on it, and ioredis
      // subscribes again by itself after a reconnect.
      this.#subscriber = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
      this.#subscriber.on('error', () => undefined);
      void this.#subscriber.subscribe(this.#channel).catch(() => undefined);
    }
    this.#subscriber.on('message', (channel: string, eventId: string) => {
      if (channel === this.#channel) listener(eventId);
    });
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
  }
}
