import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisTargetOf } from '../../src/config.js';
import { newTokenId } from '../../src/modules/queue/waiting-room.js';
import { TokenSigner } from '../../src/shared/signed-token.js';

describe('signed tokens', () => {
  const signer = new TokenSigner('a-secret-that-is-long-enough-0123456789');
  const claims = { typ: 'queue', tid: 't', iat: 1, exp: 2 };

  it('round-trips genuine claims', () => {
    expect(signer.verify(signer.sign(claims), 'queue')).toEqual(claims);
  });

  it('refuses a token of another purpose, another secret, or with any byte changed', () => {
    const token = signer.sign(claims);
    expect(signer.verify(token, 'access')).toBeUndefined();
    expect(new TokenSigner('another-secret-that-is-long-enough-0000').verify(token, 'queue')).toBeUndefined();
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, tid: 'other' })).toString('base64url');
    expect(signer.verify(`${forged}.${mac}`, 'queue')).toBeUndefined();
    expect(signer.verify(`${body}.${mac.slice(0, -2)}AA`, 'queue')).toBeUndefined();
    expect(signer.verify('garbage', 'queue')).toBeUndefined();
    expect(signer.verify('.', 'queue')).toBeUndefined();
    expect(signer.verify(`${body}:${mac}`, 'queue')).toBeUndefined();
    expect(signer.verify(`${body}.${mac.slice(0, -1)}\u0141`, 'queue')).toBeUndefined();
  });

  it('keeps verifying tokens of every age once the verified cache has turned over several times', () => {
    const tokens = Array.from({ length: 45_000 }, (_, tid) => signer.sign({ ...claims, tid: String(tid) }));
    for (const token of tokens) expect(signer.verify(token, 'queue')).toBeDefined();
    // A token in use stays; one not seen for a while is checked again from its MAC, and a forgery never goes in.
    expect(signer.verify(tokens[0]!, 'queue')).toEqual({ ...claims, tid: '0' });
    expect(signer.verify(tokens[44_999]!, 'access')).toBeUndefined();
    const [body] = tokens[1]!.split('.') as [string, string];
    expect(signer.verify(`${body}.${'A'.repeat(43)}`, 'queue')).toBeUndefined();
  });
});

describe('configuration', () => {
  it('applies defaults and picks the embedded backends when no URLs are set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.HOLD_TTL_SECONDS).toBe(300);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.SEED_DEMO).toBe(true);
    expect(config.generated).toEqual(['TOKEN_SECRET', 'ADMIN_API_KEY']);
  });

  it('converts numbers and fails listing every bad setting', () => {
    expect(loadConfig({ HOLD_TTL_SECONDS: '5' }).HOLD_TTL_SECONDS).toBe(5);
    expect(() => loadConfig({ HOLD_TTL_SECONDS: 'soon', PORT: '-1', DATABASE_URL: 'mysql://x' })).toThrowError(ConfigError);
    try {
      loadConfig({ HOLD_TTL_SECONDS: 'soon', PORT: '-1' });
    } catch (error) {
      expect((error as Error).message).toMatch(/HOLD_TTL_SECONDS/);
      expect((error as Error).message).toMatch(/PORT/);
    }
  });

  it('in production mode (DATABASE_URL set) refuses to start without shared secrets of 32+ characters', () => {
    const production = { DATABASE_URL: 'postgres://db/ticketing' };
    expect(() => loadConfig(production)).toThrowError(/TOKEN_SECRET: required[\s\S]*ADMIN_API_KEY: required/);
    expect(() => loadConfig({ ...production, TOKEN_SECRET: 'x'.repeat(32), ADMIN_API_KEY: 'short-admin-key' })).toThrowError(/ADMIN_API_KEY/);
    const config = loadConfig({ ...production, TOKEN_SECRET: 'x'.repeat(32), ADMIN_API_KEY: 'y'.repeat(32) });
    expect(config.generated).toEqual([]);
  });

  it('takes TRUST_PROXY as a hop count or trusted addresses, and refuses `true`', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']);
    for (const bad of ['true', '10.0.0.0/33', 'proxy.example', '1,2', '99']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrowError(/TRUST_PROXY/);
    }
  });

  it('takes REDIS_CLUSTER_NODES as a host:port list instead of REDIS_URL, never with it', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001, redis-b.internal:7002,[::1]:7003' });
    expect(redisTargetOf(config)).toEqual({
      clusterNodes: [
        { host: '127.0.0.1', port: 7001 },
        { host: 'redis-b.internal', port: 7002 },
        { host: '::1', port: 7003 },
      ],
    });
    expect(redisTargetOf(loadConfig({ REDIS_URL: 'redis://r:6379' }))).toEqual({ url: 'redis://r:6379' });
    expect(redisTargetOf(loadConfig({}))).toBeUndefined();
    for (const bad of ['127.0.0.1', '127.0.0.1:0', 'a:7001,,b:7002', 'redis://a:7001', 'a:99999', 'a:7001;b:7002']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad }), bad).toThrowError(/REDIS_CLUSTER_NODES: not host:port/);
    }
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7001', REDIS_URL: 'redis://a:6379' })).toThrowError(/not both/);
    // A brace in the prefix would become every key's hash tag.
    expect(() => loadConfig({ REDIS_KEY_PREFIX: 'tix:{x}:' })).toThrowError(/REDIS_KEY_PREFIX/);
  });
});

describe('newTokenId', () => {
  it('gives 12 base64url characters, never the same twice, across refills of its random pool', () => {
    const ids = Array.from({ length: 3_000 }, () => newTokenId());
    expect(ids.every((id) => /^[A-Za-z0-9_-]{12}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
