import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';

export type { Cluster, Redis };

/** A standalone client or a Redis Cluster client: the adapters use only commands and options both have. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is: one server (REDIS_URL) or the seed nodes of a cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { url: string } | { clusterNodes: HostPort[] };

type OnError = (error: Error) => void;

const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * Once connected, an outage should fail commands at once (503) rather than queue requests behind
 * reconnect attempts; both clients read this option on every command. Before the first connection,
 * commands wait for it. A silent network is covered by commandTimeout.
 */
function failFastOnceReady(client: RedisClient): void {
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
}

/**
 * One client per purpose and instance. `keyPrefix` namespaces every key (KEYS of scripts included),
 * which is how test runs and benchmarks share one Redis without touching each other's data.
 */
export function createRedis(url: string, keyPrefix: string, onError: OnError = () => undefined): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    // Commands issued in the same tick share one round trip: many requests, few packets.
    enableAutoPipelining: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Reconnects report through here; without a listener ioredis prints each one to stderr.
  redis.on('error', onError);
  failFastOnceReady(redis);
  return redis;
}

/**
 * A Redis Cluster client from seed nodes; it discovers the rest with CLUSTER SLOTS. The key prefix goes
 * on the cluster's options, not on `redisOptions`: the cluster client prefixes every command it builds
 * (scripts included) before routing it by slot, and the prefix never holds `{`, so it never moves a key
 * to another slot.
 */
export function createRedisCluster(nodes: HostPort[], keyPrefix: string, onError: OnError = () => undefined): Cluster {
  const cluster = new Cluster(nodes, {
    keyPrefix,
    enableAutoPipelining: true,
    enableOfflineQueue: true,
    // Replicas lag behind their master (asynchronous replication): a read there could contradict the
    // write a script has just made, so every command goes to the slot's master.
    scaleReads: 'master',
    // While a slot has no master (its node died, the replica is not promoted yet) a command is retried
    // every 100 ms, refreshing the slot map each time, then fails; a few tries ride out a MOVED or a
    // quick promotion, and a longer failover answers 503 in about half a second instead of hanging.
    maxRedirections: 6,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1_000,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS },
  });
  cluster.on('error', onError);
  // Per-node connection errors (a killed master) come here, not through 'error'.
  cluster.on('node error', onError);
  failFastOnceReady(cluster);
  return cluster;
}

export function openRedis(target: RedisTarget, keyPrefix: string, onError?: OnError): RedisClient {
  return 'url' in target ? createRedis(target.url, keyPrefix, onError) : createRedisCluster(target.clusterNodes, keyPrefix, onError);
}

export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster;

/**
 * A client of its own for subscribing. It has no key prefix: channels of SSUBSCRIBE count as keys in
 * ioredis, and on a reconnect it subscribes again to the names the server reported, which already
 * carry the prefix, so a prefixed subscriber would prefix them twice. Subscribing may wait for Redis
 * (start-up, failover): no request waits on it. On a cluster it keeps one connection per master and
 * sends each SSUBSCRIBE to the shard that owns the channel's slot.
 */
export function subscriberFor(client: RedisClient): RedisClient {
  if (isCluster(client)) return client.duplicate([], { keyPrefix: '', enableOfflineQueue: true, shardedSubscribers: true });
  return client.duplicate({ keyPrefix: '', enableOfflineQueue: true, commandTimeout: undefined });
}

/** Resolves once the client is connected, or after `timeoutMs` (it keeps reconnecting in the background). */
export async function whenReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
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

export type LuaArgument = string | number;

/** Per client, each command name defined on it: its Lua source and the function that runs it. */
const definedCommands = new WeakMap<RedisClient, Map<string, { lua: string; command: unknown }>>();

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * Defines `lua` as the command `name` on this client and returns it typed: the key tuple fixes
 * `numberOfKeys`, and the client's keyPrefix is applied to those keys. It runs as `EVAL` (which loads it)
 * until a call has been answered, then as `EVALSHA`, and as `EVAL` again when Redis answers NOSCRIPT: a
 * restarted Redis, or a promoted replica, has an empty script cache. On a cluster the command goes to
 * the master of its keys' slot, so every script's keys must share one hash tag.
 *
 * Not ioredis's `defineCommand`: auto-pipelining makes a Pipeline for every batch of commands, and each
 * Pipeline copies every command defined that way onto itself (two properties each; the service has
 * fifteen). `EVALSHA` is a built-in command, which a Pipeline inherits (docs/performance-log.md).
 *
 * Adapters sharing a client may define the same command again and get the same function back, while a
 * different script under a name already taken is a bug and throws.
 */
export function defineLuaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Result>(
  redis: RedisClient,
  name: string,
  lua: string,
  numberOfKeys: Keys['length'],
): (keys: Keys, ...args: Args) => Promise<Result> {
  type Command = (keys: Keys, ...args: Args) => Promise<Result>;
  const defined = definedCommands.get(redis) ?? new Map<string, { lua: string; command: unknown }>();
  definedCommands.set(redis, defined);
  const existing = defined.get(name);
  if (existing?.lua === lua) return existing.command as Command;
  if (existing) throw new Error(`Redis command ${name} is already defined with another script`);
  const sha = createHash('sha1').update(lua).digest('hex');
  // Until a call has loaded it, the script goes as EVAL, so the first calls after a start take one
  // round trip, not a NOSCRIPT and then an EVAL.
  let loaded = false;
  const command: Command = async (keys, ...args) => {
    if (loaded) {
      try {
        return (await redis.evalsha(sha, numberOfKeys, ...keys, ...args)) as Result;
      } catch (error) {
        if (!isNoScript(error)) throw error;
      }
    }
    try {
      return (await redis.eval(lua, numberOfKeys, ...keys, ...args)) as Result;
    } finally {
      // Whatever the script answered, EVAL has cached it; an EVALSHA that finds it gone comes back here.
      loaded = true;
    }
  };
  defined.set(name, { lua, command });
  return command;
}

/**
 * Rule: time in Redis is Redis's. Every script that decides by time starts with this: `clock(arg)` is
 * the time a test clock pinned (epoch ms) when one is passed, else the server's own `TIME`, so every
 * instance's scripts decide by one clock whatever their hosts' clocks say.
 */
export const LUA_CLOCK = `
local function clock(arg)
  if arg and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** The script argument for a pinned time: the time itself, or '' for "use TIME". */
export const pinnedArg = (now: number | undefined): LuaArgument => now ?? '';
