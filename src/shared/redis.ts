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

export type LuaArgument = string | number;

/** Per client, the Lua source behind each command name defined on it. */
const definedCommands = new WeakMap<Redis, Map<string, string>>();

/**
 * Defines `lua` as the custom command `name` on this client (ioredis `defineCommand`) and returns it
 * typed: the key tuple fixes `numberOfKeys`, the client's keyPrefix is applied to those keys, and ioredis
 * runs the script by EVALSHA, sending the source again on a new connection or after NOSCRIPT (a
 * restarted Redis has an empty script cache). Adapters sharing a client may define the same command
 * again; that is a no-op, while a different script under a name already taken is a bug and throws.
 */
export function defineLuaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Result>(
  redis: Redis,
  name: string,
  lua: string,
  numberOfKeys: Keys['length'],
): (keys: Keys, ...args: Args) => Promise<Result> {
  const defined = definedCommands.get(redis) ?? new Map<string, string>();
  definedCommands.set(redis, defined);
  const existing = defined.get(name);
  if (existing === undefined) {
    redis.defineCommand(name, { lua, numberOfKeys });
    defined.set(name, lua);
  } else if (existing !== lua) {
    throw new Error(`Redis command ${name} is already defined with another script`);
  }
  // defineCommand adds the method at run time; its typed signature is the one declared above.
  const commands = redis as unknown as Record<string, (...params: LuaArgument[]) => Promise<unknown>>;
  return async (keys, ...args) => (await commands[name]!(...keys, ...args)) as Result;
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
