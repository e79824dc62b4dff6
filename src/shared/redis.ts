import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

export type { Redis };

/**
 * One client per purpose and instance. `keyPrefix` namespaces every key (KEYS of scripts included),
 * which is how test runs and benchmarks share one Redis without touching each other's data.
 */
export function createRedis(url: string, keyPrefix: string, onError: (error: Error) => void = () => undefined): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    // Commands issued in the same tick share one round trip: many requests, few packets.
    enableAutoPipelining: true,
    // Commands issued before the first connection wait for it; see below for later outages.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 2_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Reconnects report through here; without a listener ioredis prints each one to stderr.
  redis.on('error', onError);
  // Once connected, an outage should fail commands at once (503) rather than queue requests behind
  // reconnect attempts; ioredis reads this option on every command. A silent network is covered by
  // commandTimeout.
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
  return redis;
}

/** Resolves once the client is connected, or after `timeoutMs` (it keeps reconnecting in the background). */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
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
