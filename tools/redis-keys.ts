import { Cluster, type Redis } from 'ioredis';

/** One server's keys under `prefix`, deleted one UNLINK per key: on a cluster node, keys of different slots may not share a command. */
async function deleteOnServer(server: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) {
      const pipeline = server.pipeline();
      for (const key of keys) pipeline.unlink(key);
      deleted += ((await pipeline.exec()) ?? []).reduce((sum, [, count]) => sum + Number(count ?? 0), 0);
    }
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/**
 * Removes every key under `prefix` through a client without a key prefix of its own; returns how many
 * went. UNLINK: the keys are gone at once, and Redis frees large ones off its main thread. On a cluster
 * every master is scanned, since SCAN sees one node's keys only.
 */
export async function deleteKeysWithPrefix(redis: Redis | Cluster, prefix: string): Promise<number> {
  if (!(redis instanceof Cluster)) return deleteOnServer(redis, prefix);
  const counts = await Promise.all(redis.nodes('master').map((node) => deleteOnServer(node, prefix)));
  return counts.reduce((sum, count) => sum + count, 0);
}
