import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

export type { Redis };

/**
 * One client per purpose and instance. `keyPrefix` namespaces every key (KEYS of scripts included),
 * which is how test runs and benchmarks share one Redis without touching each other's data.
 */
export function createRedis(url: string, keyPrefix: string): Redis {
  return new Redis(url, {
    keyPrefix,
    // Commands issued in the same tick share one round trip: many requests, few packets.
    enableAutoPipelining: true,
    // Fail a command after a few retries instead of queueing it forever while Redis is down.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
}

/** A Lua script run by SHA, loaded on first use and again after a Redis restart empties the script cache. */
export class LuaScript<Result = unknown> {
  readonly #sha: string;

  constructor(
    readonly source: string,
    readonly keyCount: number,
  ) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<Result> {
    if (keys.length !== this.keyCount) throw new Error(`script expects ${this.keyCount} keys, got ${keys.length}`);
    try {
      return (await redis.evalsha(this.#sha, this.keyCount, ...keys, ...args)) as Result;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await redis.eval(this.source, this.keyCount, ...keys, ...args)) as Result;
    }
  }
}
