import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../../tools/private-redis.js';
import { createRedis, defineLuaCommand, type Redis } from '../../src/shared/redis.js';

const INCREMENT_LUA = `return redis.call('INCRBY', KEYS[1], ARGV[1])`;

/**
 * The scripts every Redis adapter runs through defineLuaCommand: by EVAL until loaded, then by EVALSHA,
 * and by EVAL again when Redis has lost its script cache (a restart, a promoted replica). A private
 * redis-server, so that flushing its scripts touches no other test.
 */
describe('Lua commands (defineLuaCommand, private redis-server)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let inspector: Redis;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = createRedis(server.url, 'lua:');
    inspector = createRedis(server.url, '');
  });
  afterAll(async () => {
    redis?.disconnect();
    inspector?.disconnect();
    await server?.kill();
  });

  /** Calls of each script command Redis has answered so far, by command name (INFO commandstats). */
  async function scriptCalls(): Promise<{ evalsha: number; eval: number; failedEvalsha: number }> {
    const stats = await inspector.info('commandstats');
    const field = (command: string, name: string) => Number(new RegExp(`cmdstat_${command}:.*?${name}=(\\d+)`).exec(stats)?.[1] ?? 0);
    return { evalsha: field('evalsha', 'calls'), eval: field('eval', 'calls'), failedEvalsha: field('evalsha', 'failed_calls') };
  }

  it('loads itself by EVAL, then runs by EVALSHA, loads itself again after NOSCRIPT, and applies the key prefix', async () => {
    const increment = defineLuaCommand<[key: string], [by: number], number>(redis, 'testIncrement', INCREMENT_LUA, 1);

    expect(await increment(['counter'], 2)).toBe(2);
    expect(await scriptCalls()).toEqual({ evalsha: 0, eval: 1, failedEvalsha: 0 });

    expect(await increment(['counter'], 3)).toBe(5);
    expect(await scriptCalls()).toEqual({ evalsha: 1, eval: 1, failedEvalsha: 0 });

    await inspector.script('FLUSH');
    expect(await increment(['counter'], 4)).toBe(9);
    expect(await scriptCalls()).toEqual({ evalsha: 2, eval: 2, failedEvalsha: 1 });

    expect(await increment(['counter'], 5)).toBe(14);
    expect(await scriptCalls()).toEqual({ evalsha: 3, eval: 2, failedEvalsha: 1 });

    expect(await inspector.get('lua:counter')).toBe('14');
    expect(await inspector.exists('counter')).toBe(0);
  });

  it('passes a script error through without retrying it', async () => {
    const failing = defineLuaCommand<[key: string], [], never>(redis, 'testFailing', `return redis.error_reply('REFUSED by the script')`, 1);
    const before = await scriptCalls();
    await expect(failing(['any'])).rejects.toThrow(/REFUSED by the script/);
    await expect(failing(['any'])).rejects.toThrow(/REFUSED by the script/);
    const after = await scriptCalls();
    // Loaded by the first call although it failed, so the second is an EVALSHA; neither is sent twice.
    expect({ eval: after.eval - before.eval, evalsha: after.evalsha - before.evalsha }).toEqual({ eval: 1, evalsha: 1 });
  });

  it('accepts the same script under its name again, and refuses another script under a name taken', () => {
    const first = defineLuaCommand<[key: string], [by: number], number>(redis, 'testAgain', INCREMENT_LUA, 1);
    expect(defineLuaCommand<[key: string], [by: number], number>(redis, 'testAgain', INCREMENT_LUA, 1)).toBe(first);
    expect(() => defineLuaCommand<[key: string], [], number>(redis, 'testIncrement', `return 1`, 1)).toThrow(/already defined/);
  });
});
