import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { HostPort, RedisTarget } from './shared/redis.js';

const IntFrom = (minimum: number, maximum: number, defaultValue: number) =>
  Type.Integer({ minimum, maximum, default: defaultValue });

/** Shared secrets shorter than this are guessable or typos; both settings refuse them. */
const SECRET_MIN_LENGTH = 32;

const ConfigSchema = Type.Object({
  PORT: IntFrom(0, 65_535, 3000),
  HOST: Type.String({ default: '0.0.0.0' }),
  /**
   * Behind a load balancer: how many hops, or which addresses/CIDRs, may speak for the client in
   * X-Forwarded-For. `true` is refused: it would believe the leftmost entry, which the client writes.
   */
  TRUST_PROXY: Type.String({ default: 'false' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: IntFrom(1, 200, 20),
  DATABASE_STATEMENT_TIMEOUT_MS: IntFrom(100, 600_000, 5_000),
  PGLITE_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** Seed nodes of a Redis Cluster, `host:port,host:port,…`; instead of REDIS_URL, never with it. */
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_KEY_PREFIX: Type.String({ default: 'tix:' }),
  HOLD_TTL_SECONDS: IntFrom(1, 3_600, 300),
  HOLD_MAX_PER_USER: IntFrom(1, 50, 4),
  HOLD_SWEEP_INTERVAL_MS: IntFrom(100, 600_000, 5_000),
  /** The longest a cached seat map is trusted whatever its version says (the bound if a version bump was lost); 0 turns the cache off. */
  SEAT_MAP_CACHE_MAX_AGE_MS: IntFrom(0, 60_000, 2_000),
  SEAT_MAP_STREAM_HEARTBEAT_MS: IntFrom(100, 60_000, 15_000),
  SEAT_MAP_STREAMS_PER_TOKEN: IntFrom(1, 100, 2),
  /** Refunds close this long before a date starts. */
  REFUND_CUTOFF_SECONDS: IntFrom(0, 365 * 86_400, 86_400),
  QUEUE_MAX_ACTIVE: IntFrom(1, 1_000_000, 100),
  QUEUE_ADMIT_PER_SECOND: IntFrom(1, 1_000_000, 50),
  QUEUE_ACTIVE_PER_SEAT: IntFrom(1, 1_000, 2),
  QUEUE_ACTIVE_TTL_SECONDS: IntFrom(5, 86_400, 600),
  QUEUE_WAITING_GRACE_SECONDS: IntFrom(5, 86_400, 120),
  QUEUE_TOKEN_TTL_SECONDS: IntFrom(60, 7 * 86_400, 3 * 3_600),
  QUEUE_ADMIT_INTERVAL_MS: IntFrom(20, 60_000, 250),
  QUEUE_STREAM_HEARTBEAT_MS: IntFrom(100, 60_000, 15_000),
  QUEUE_STREAMS_PER_TOKEN: IntFrom(1, 100, 2),
  ACCESS_TOKEN_TTL_SECONDS: IntFrom(60, 30 * 86_400, 86_400),
  RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: IntFrom(1, 1_000_000, 30),
  RATE_LIMIT_HOLDS_PER_MINUTE: IntFrom(1, 1_000_000, 60),
  RATE_LIMIT_SIGNUPS_PER_MINUTE: IntFrom(1, 1_000_000, 600),
  RATE_LIMIT_CHARGES_PER_MINUTE: IntFrom(1, 1_000_000, 20),
  RATE_LIMIT_PAYMENTS_PER_MINUTE: IntFrom(1, 1_000_000, 30),
  RATE_LIMIT_CANCELS_PER_MINUTE: IntFrom(1, 1_000_000, 30),
  RATE_LIMIT_STREAMS_PER_MINUTE: IntFrom(1, 1_000_000, 60),
  TOKEN_SECRET: Type.Optional(Type.String({ minLength: SECRET_MIN_LENGTH })),
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: SECRET_MIN_LENGTH })),
  SEED_DEMO: Type.Optional(Type.Boolean()),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

type RawConfig = Static<typeof ConfigSchema>;

/** Fastify's `trustProxy`: false, a hop count, or a list of trusted addresses/CIDRs (proxy-addr names too). */
export type TrustProxy = false | number | string[];

export interface Config extends Omit<RawConfig, 'TOKEN_SECRET' | 'ADMIN_API_KEY' | 'SEED_DEMO' | 'TRUST_PROXY'> {
  TRUST_PROXY: TrustProxy;
  TOKEN_SECRET: string;
  ADMIN_API_KEY: string;
  SEED_DEMO: boolean;
  /** Settings filled in because the environment left them out; start-up logs a warning for each. */
  generated: string[];
}

export class ConfigError extends Error {}

/**
 * Reads the environment once, converts strings to numbers and booleans, applies defaults and
 * fails with every problem listed, so a bad deployment stops at start-up rather than mid-sale.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(ConfigSchema.properties)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, known));
  const problems = [...Value.Errors(ConfigSchema, converted)].map(
    (error) => `${error.path.slice(1) || '(root)'}: ${error.message} (got ${JSON.stringify(error.value)})`,
  );
  const raw = converted as RawConfig;
  const trustProxy = parseTrustProxy(raw.TRUST_PROXY);
  if (typeof trustProxy === 'string') problems.push(`TRUST_PROXY: ${trustProxy} (got ${JSON.stringify(raw.TRUST_PROXY)})`);
  if (raw.REDIS_CLUSTER_NODES !== undefined) {
    const nodes = parseHostPorts(raw.REDIS_CLUSTER_NODES);
    if (typeof nodes === 'string') problems.push(`REDIS_CLUSTER_NODES: ${nodes} (got ${JSON.stringify(raw.REDIS_CLUSTER_NODES)})`);
    // Two stores would split the line and the locks between them without anyone noticing.
    if (raw.REDIS_URL !== undefined) problems.push('REDIS_CLUSTER_NODES: set REDIS_URL or REDIS_CLUSTER_NODES, not both');
  }
  // A brace in the prefix would become the hash tag of every key, putting them all in one slot.
  if (/[{}]/.test(raw.REDIS_KEY_PREFIX)) problems.push(`REDIS_KEY_PREFIX: must not contain { or } (got ${JSON.stringify(raw.REDIS_KEY_PREFIX)})`);
  if (raw.DATABASE_URL !== undefined) {
    // Several instances share one database: a secret made up per process would split them silently.
    for (const name of ['TOKEN_SECRET', 'ADMIN_API_KEY'] as const) {
      if (raw[name] === undefined) problems.push(`${name}: required with DATABASE_URL (at least ${SECRET_MIN_LENGTH} characters, the same on every instance)`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const generated: string[] = [];
  const fill = (name: string, value: string | undefined) => {
    if (value !== undefined) return value;
    generated.push(name);
    return randomBytes(32).toString('base64url');
  };
  return {
    ...raw,
    TRUST_PROXY: trustProxy as TrustProxy,
    TOKEN_SECRET: fill('TOKEN_SECRET', raw.TOKEN_SECRET),
    ADMIN_API_KEY: fill('ADMIN_API_KEY', raw.ADMIN_API_KEY),
    SEED_DEMO: raw.SEED_DEMO ?? raw.DATABASE_URL === undefined,
    generated,
  };
}

/** Names proxy-addr (Fastify's trust engine) accepts for well-known ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

const isAddressOrCidr = (entry: string) => {
  if (RANGE_NAMES.has(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix <= (family === 4 ? 32 : 128);
};

/** A hop count, `false`, or trusted addresses; the error text when the value is none of them. */
function parseTrustProxy(value: string): TrustProxy | string {
  const trimmed = value.trim();
  if (trimmed === 'false' || trimmed === '0') return false;
  if (trimmed === 'true') return 'true would trust any client\'s X-Forwarded-For; give the number of proxy hops or their addresses';
  if (/^\d+$/.test(trimmed)) return Number(trimmed) <= 10 ? Number(trimmed) : 'more than 10 proxy hops is not a real deployment';
  const entries = trimmed.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isAddressOrCidr(entry));
  return bad.length === 0 ? entries : `not an address or CIDR: ${bad.join(', ')}`;
}

/** `host:port,host:port`, each port 1–65535; the error text when the list is not that. */
export function parseHostPorts(list: string): HostPort[] | string {
  const entries = list.split(',').map((entry) => entry.trim());
  const nodes = entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    return match && port >= 1 && port <= 65_535 ? { host: match[1]!.replace(/^\[|\]$/g, ''), port } : undefined;
  });
  const bad = entries.filter((_, i) => nodes[i] === undefined);
  return bad.length === 0 ? (nodes as HostPort[]) : `not host:port: ${bad.map((entry) => JSON.stringify(entry)).join(', ')}`;
}

/** Where the service's Redis is, if it has one. */
export function redisTargetOf(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget | undefined {
  if (config.REDIS_CLUSTER_NODES !== undefined) return { clusterNodes: parseHostPorts(config.REDIS_CLUSTER_NODES) as HostPort[] };
  return config.REDIS_URL !== undefined ? { url: config.REDIS_URL } : undefined;
}

/** A short, non-reversible name for a secret, so logs can tell two keys apart without revealing either. */
export const fingerprint = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 8);
