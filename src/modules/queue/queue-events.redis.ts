import { isCluster, subscriberFor, type RedisClient } from '../../shared/redis.js';
import { decodeChange, encodeChange, type LineChange, type QueueEvents } from './queue-events.js';

/**
 * One event's channel, without the key prefix. It carries the line's `{eventId}` hash tag, so on a
 * cluster it lives on the shard that holds the line: SPUBLISH reaches that shard's subscribers only,
 * where classic PUBLISH is copied to every node of the cluster. Standalone Redis 7 has the same commands.
 */
export const queueMovedChannel = (eventId: string) => `queue:moved:{${eventId}}`;

const RESUBSCRIBE_DELAY_MS = 500;

/**
 * Redis sharded pub/sub fan-out: one subscriber client per instance, however many stream clients it
 * serves, subscribed to the channels of the events it follows.
 */
export class RedisQueueEvents implements QueueEvents {
  readonly #keyPrefix: string;
  readonly #listeners: ((eventId: string, change: LineChange) => void)[] = [];
  /** Followed events, each with its subscription (settles once the server confirmed it). */
  readonly #followed = new Map<string, Promise<void>>();
  #subscriber: RedisClient | undefined;
  #closed = false;

  constructor(private readonly redis: RedisClient) {
    this.#keyPrefix = redis.options.keyPrefix ?? '';
  }

  async publish(eventId: string, change: LineChange = 'line'): Promise<void> {
    // ioredis counts SPUBLISH's channel as a key, so the client adds its key prefix to it.
    await this.redis.spublish(queueMovedChannel(eventId), encodeChange(eventId, change));
  }

  async subscribe(listener: (eventId: string, change: LineChange) => void): Promise<void> {
    this.#listeners.push(listener);
    this.#subscriberClient();
  }

  follow(eventId: string): Promise<void> {
    let subscribed = this.#followed.get(eventId);
    if (!subscribed) {
      subscribed = this.#ssubscribe(eventId);
      this.#followed.set(eventId, subscribed);
    }
    return subscribed;
  }

  async unfollow(eventId: string): Promise<void> {
    if (!this.#followed.delete(eventId)) return;
    await this.#subscriber?.sunsubscribe(this.#channel(eventId)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#followed.clear();
    this.#subscriber?.disconnect();
  }

  /** The subscriber has no key prefix (see subscriberFor), so it is given full channel names. */
  #channel(eventId: string): string {
    return this.#keyPrefix + queueMovedChannel(eventId);
  }

  #subscriberClient(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = subscriberFor(this.redis);
    subscriber.on('error', () => undefined);
    subscriber.on('smessage', (channel: string, message: string) => {
      const { eventId, change } = decodeChange(message);
      if (!this.#followed.has(eventId) || channel !== this.#channel(eventId)) return;
      for (const listener of this.#listeners) listener(eventId, change);
    });
    // After a lost connection (on a cluster: a node gone, as in a failover) ioredis subscribes again by
    // itself, but moves published meanwhile are gone: once it is back, every followed event counts as
    // moved, so its streams re-read instead of waiting for their heartbeat.
    let lost = false;
    subscriber.on(isCluster(subscriber) ? '-node' : 'close', () => (lost = true));
    subscriber.on(isCluster(subscriber) ? 'subscribersReady' : 'ready', () => {
      if (!lost) return;
      lost = false;
      for (const eventId of this.#followed.keys()) for (const listener of this.#listeners) listener(eventId, 'line');
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /**
   * ioredis re-subscribes only to channels the server confirmed; one refused before that (Redis down,
   * the channel's shard without a master) is asked for again until it holds or the event is let go.
   */
  async #ssubscribe(eventId: string): Promise<void> {
    for (;;) {
      try {
        await this.#subscriberClient().ssubscribe(this.#channel(eventId));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
        if (this.#closed || !this.#followed.has(eventId)) return;
      }
    }
  }
}
