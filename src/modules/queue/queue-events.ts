import { EventEmitter } from 'node:events';
import type { Redis } from '../../shared/redis.js';

/**
 * "The line for this event moved": someone was admitted or dropped, so positions and statuses may have
 * changed. Instances publish it after admission steps; every instance refreshes its own stream clients.
 */
export interface QueueEvents {
  publish(eventId: string): Promise<void>;
  subscribe(listener: (eventId: string) => void): Promise<void>;
  close(): Promise<void>;
}

export class MemoryQueueEvents implements QueueEvents {
  readonly #emitter = new EventEmitter();

  async publish(eventId: string): Promise<void> {
    this.#emitter.emit('moved', eventId);
  }

  async subscribe(listener: (eventId: string) => void): Promise<void> {
    this.#emitter.on('moved', listener);
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}

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
