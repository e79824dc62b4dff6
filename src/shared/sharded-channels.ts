import { isCluster, subscriberFor, type RedisClient } from './redis.js';

const RESUBSCRIBE_DELAY_MS = 500;

/**
 * Redis sharded pub/sub by topic (an event's line, a date's seat map): one subscriber client per
 * instance, however many streams it serves, subscribed to the channels of the topics it follows. Each
 * topic's channel carries the hash tag of the topic's keys, so on a cluster it lives on the shard that
 * holds them: SPUBLISH reaches that shard's subscribers only, where classic PUBLISH is copied to every
 * node. Standalone Redis 7 has the same commands.
 */
export class ShardedChannels {
  readonly #keyPrefix: string;
  readonly #listeners: ((topic: string, message: string | undefined) => void)[] = [];
  /** Followed topics by their full channel name, each with its subscription (settles once the server confirmed it). */
  readonly #followed = new Map<string, { topic: string; subscribed: Promise<void> }>();
  #subscriber: RedisClient | undefined;
  #closed = false;

  /** `channelOf` names a topic's channel without the key prefix, as the publishing client sees it. */
  constructor(
    private readonly redis: RedisClient,
    private readonly channelOf: (topic: string) => string,
  ) {
    this.#keyPrefix = redis.options.keyPrefix ?? '';
  }

  async publish(topic: string, message: string): Promise<void> {
    // ioredis counts SPUBLISH's channel as a key, so the client adds its key prefix to it.
    await this.redis.spublish(this.channelOf(topic), message);
  }

  /**
   * Adds a listener for the messages of every followed topic. It also hears `undefined` for each of them
   * once a lost connection is back: whatever was published meanwhile is gone, so anything may have changed.
   */
  subscribe(listener: (topic: string, message: string | undefined) => void): void {
    this.#listeners.push(listener);
    this.#subscriberClient();
  }

  /** Resolves once messages published from then on are delivered; never rejects (it keeps trying). */
  follow(topic: string): Promise<void> {
    const channel = this.#channel(topic);
    let followed = this.#followed.get(channel);
    if (!followed) {
      followed = { topic, subscribed: this.#ssubscribe(channel) };
      this.#followed.set(channel, followed);
    }
    return followed.subscribed;
  }

  async unfollow(topic: string): Promise<void> {
    const channel = this.#channel(topic);
    if (!this.#followed.delete(channel)) return;
    await this.#subscriber?.sunsubscribe(channel).catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    this.#followed.clear();
    this.#subscriber?.disconnect();
  }

  /** The subscriber has no key prefix (see subscriberFor), so it is given full channel names. */
  #channel(topic: string): string {
    return this.#keyPrefix + this.channelOf(topic);
  }

  #subscriberClient(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = subscriberFor(this.redis);
    subscriber.on('error', () => undefined);
    subscriber.on('smessage', (channel: string, message: string) => {
      const followed = this.#followed.get(channel);
      if (followed) for (const listener of this.#listeners) listener(followed.topic, message);
    });
    // After a lost connection (on a cluster: a node gone, as in a failover) ioredis subscribes again by
    // itself, but messages published meanwhile are gone.
    let lost = false;
    subscriber.on(isCluster(subscriber) ? '-node' : 'close', () => (lost = true));
    subscriber.on(isCluster(subscriber) ? 'subscribersReady' : 'ready', () => {
      if (!lost) return;
      lost = false;
      for (const { topic } of this.#followed.values()) for (const listener of this.#listeners) listener(topic, undefined);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /**
   * ioredis re-subscribes only to channels the server confirmed; one refused before that (Redis down,
   * the channel's shard without a master) is asked for again until it holds or the topic is let go.
   */
  async #ssubscribe(channel: string): Promise<void> {
    for (;;) {
      try {
        await this.#subscriberClient().ssubscribe(channel);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS).unref());
        if (this.#closed || !this.#followed.has(channel)) return;
      }
    }
  }
}
