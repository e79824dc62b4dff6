import { inject } from 'vitest';
import { redisTargetOf } from '../../src/config.js';
import { openRedis, type RedisClient } from '../../src/shared/redis.js';

/**
 * The two Redis topologies the service runs on in tests: the standalone server and the Redis Cluster
 * (3 masters + 3 replicas, `.ci/run`). The cluster is left out when the global setup found it down,
 * which it allows only outside CI, and says so at the start of the run.
 */
export type RedisBackend = 'postgres+redis' | 'postgres+cluster';

export const clusterUp: boolean = inject('redisClusterUp');
export const redisBackends: RedisBackend[] = clusterUp ? ['postgres+redis', 'postgres+cluster'] : ['postgres+redis'];

/** The service setting that points it at the run's Redis of this topology. */
export const redisEnv = (backend: RedisBackend): Record<string, string> =>
  backend === 'postgres+cluster' ? { REDIS_CLUSTER_NODES: inject('redisClusterNodes') } : { REDIS_URL: inject('redisUrl') };

/** A client on the run's Redis of this topology, for reading what the service wrote (no key prefix unless given). */
export const openRunRedis = (backend: RedisBackend, keyPrefix = ''): RedisClient => openRedis(redisTargetOf(redisEnv(backend))!, keyPrefix);
