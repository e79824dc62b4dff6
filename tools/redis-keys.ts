import type { Redis } from 'ioredis';

/**
 * Removes every key under `prefix` through a client without a key prefix of its own; returns how many
 * went. UNLINK: the keys are gone at once, and Redis frees large ones off its main thread.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
