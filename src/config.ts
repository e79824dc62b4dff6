import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const IntFrom = (minimum: number, maximum: number, defaultValue: number) =>
  Type.Integer({ minimum, maximum, default: defaultValue });

const ConfigSchema = Type.Object({
  PORT: IntFrom(0, 65_535, 3000),
  HOST: Type.String({ default: '0.0.0.0' }),
  /** Behind a load balancer: trust X-Forwarded-For from it, so per-IP limits see the real client. */
  TRUST_PROXY: Type.Boolean({ default: false }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: IntFrom(1, 200, 20),
  DATABASE_STATEMENT_TIMEOUT_MS: IntFrom(100, 600_000, 5_000),
  PGLITE_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'tix:' }),
  HOLD_TTL_SECONDS: IntFrom(1, 3_600, 300),
  HOLD_MAX_PER_USER: IntFrom(1, 50, 4),
  HOLD_SWEEP_INTERVAL_MS: IntFrom(100, 600_000, 5_000),
  QUEUE_MAX_ACTIVE: IntFrom(1, 1_000_000, 100),
  QUEUE_ADMIT_PER_SECOND: IntFrom(1, 1_000_000, 50),
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
  RATE_LIMIT_STREAMS_PER_MINUTE: IntFrom(1, 1_000_000, 60),
  TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 8 })),
  SEED_DEMO: Type.Optional(Type.Boolean()),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

type RawConfig = Static<typeof ConfigSchema>;

export interface Config extends Omit<RawConfig, 'TOKEN_SECRET' | 'ADMIN_API_KEY' | 'SEED_DEMO'> {
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
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const raw = converted as RawConfig;
  const generated: string[] = [];
  const fill = (name: string, value: string | undefined) => {
    if (value !== undefined) return value;
    generated.push(name);
    return randomBytes(32).toString('base64url');
  };
  return {
    ...raw,
    TOKEN_SECRET: fill('TOKEN_SECRET', raw.TOKEN_SECRET),
    ADMIN_API_KEY: fill('ADMIN_API_KEY', raw.ADMIN_API_KEY),
    SEED_DEMO: raw.SEED_DEMO ?? raw.DATABASE_URL === undefined,
    generated,
  };
}
