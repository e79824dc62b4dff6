import { LuaScript, type Redis } from '../../shared/redis.js';
import type { SeatLocks } from './seat-locks.js';

// Value "owner|deadline". PX makes Redis forget the key eventually; the deadline decides when it stops counting.
const acquireScript = new LuaScript<number>(
  `
local current = redis.call('GET', KEYS[1])
if current and tonumber(string.match(current, '|(%d+)$')) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. (tonumber(ARGV[2]) + tonumber(ARGV[3])), 'PX', ARGV[3])
return 1
`,
  1,
);

const releaseScript = new LuaScript<number>(
  `
local current = redis.call('GET', KEYS[1])
if current and string.match(current, '^([^|]+)') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);

export class RedisSeatLocks implements SeatLocks {
  constructor(private readonly redis: Redis) {}

  async acquire(key: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return (await acquireScript.run(this.redis, [key], [owner, now, ttlMs])) === 1;
  }

  async release(key: string, owner: string): Promise<void> {
    await releaseScript.run(this.redis, [key], [owner]);
  }
}
