/**
 * One-off measurements behind docs/scaling.md, on loopback only, bounded in time:
 *
 *   npx tsx scripts/multi-instance/measure-queue.ts [--waiters 50000] [--streams 10000] [--only redis|sse]
 *
 * 1. Redis memory per waiting user: joins `--waiters` users straight through the Redis waiting-room
 *    adapter under a throwaway key prefix, compares INFO used_memory and MEMORY USAGE of the event's
 *    keys, times the scripts at that size, and deletes the keys.
 * 2. Event streams on one instance: starts one service process (own database `ticketing_measure`,
 *    dropped afterwards; throwaway Redis prefix), opens `--streams` concurrent SSE connections as raw
 *    sockets, reads the instance's RSS/heap from /metrics before and after, and times "line moved"
 *    fan-outs: one admission, one publish, until every client has its new position.
 * The client side needs one file descriptor per stream: `ulimit -n` must exceed --streams (+ a few hundred).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createRedis } from '../../src/shared/redis.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import type { AdmissionPolicy } from '../../src/modules/queue/waiting-room.js';
import { freePort, metric, scrape, startInstance, type Instance } from './instances.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const WAITERS = Number(option('waiters', '50000'));
const STREAMS = Number(option('streams', '10000'));
const ONLY = option('only', 'all');
const ROUNDS = Number(option('rounds', '3'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const adminUrl = process.env.MULTI_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const HOUR = 3_600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/** Runs `task` for 0..count-1 with at most `width` in flight. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// 1. Redis memory per waiter
// ---------------------------------------------------------------------------------------------
async function measureRedis() {
  const prefix = `measure:${randomBytes(4).toString('hex')}:`;
  const plain = new Redis(redisUrl);
  const redis = createRedis(redisUrl, prefix);
  const room = new RedisWaitingRoom(redis);
  const eventId = randomUUID();
  const base = `${prefix}q:{${eventId}}`;
  const policy: AdmissionPolicy = { maxActive: 100, admitPerSecond: 100, activeTtlMs: 600_000, waitingGraceMs: 120_000 };
  try {
    const before = await usedMemory(plain);
    const joinCpuBefore = await redisCpuSeconds(plain);
    const started = performance.now();
    const now = Date.now();
    const users: string[] = [];
    for (let offset = 0; offset < WAITERS; offset += 1000) {
      const batch = Array.from({ length: Math.min(1000, WAITERS - offset) }, () => randomUUID());
      users.push(...batch);
      await Promise.all(
        batch.map((userId) => room.join({ tokenId: randomUUID(), userId, eventId, issuedAt: now, expiresAt: now + 3 * HOUR }, now)),
      );
    }
    const joinSeconds = (performance.now() - started) / 1000;
    const joinRedisCpu = (await redisCpuSeconds(plain)) - joinCpuBefore;
    await sleep(200);
    const after = await usedMemory(plain);

    const keys = ['tickets', 'waiting', 'seen', 'seq'];
    const usage: Record<string, { bytes: number; encoding: string }> = {};
    for (const key of keys) {
      usage[key] = {
        bytes: Number(await plain.call('MEMORY', 'USAGE', `${base}:${key}`, 'SAMPLES', '0')),
        encoding: String(await plain.object('ENCODING', `${base}:${key}`)),
      };
    }
    const keyBytes = Object.values(usage).reduce((sum, k) => sum + k.bytes, 0);

    // Script cost at this size: a poll at the back of the line (ZRANK), one admission of 100, and a drop
    // step when everyone stopped polling (the script drops at most 1,000 per step).
    const last = users.at(-1)!;
    const ticket = (await plain.hget(`${base}:tickets`, last))!.split('|')[0]!;
    const touchStart = performance.now();
    for (let i = 0; i < 1000; i++) await room.touch(eventId, [{ userId: last, tokenId: ticket }], now + 1, policy);
    const touchMs = (performance.now() - touchStart) / 1000;
    // What one stream refresh costs Redis: 10,000 polls of random waiters in batches of 500, as the hub does them.
    const sample = Array.from({ length: 10_000 }, () => users[Math.floor(Math.random() * users.length)]!);
    const sampleTickets = await plain.hmget(`${base}:tickets`, ...sample);
    const bulkCpuBefore = await redisCpuSeconds(plain);
    const bulkStart = performance.now();
    for (let i = 0; i < sample.length; i += 500) {
      const batch = sample.slice(i, i + 500).map((userId, j) => ({ userId, tokenId: sampleTickets[i + j]!.split('|')[0]! }));
      await room.touch(eventId, batch, now + 1, policy);
    }
    const bulkSeconds = (performance.now() - bulkStart) / 1000;
    const bulkRedisCpu = (await redisCpuSeconds(plain)) - bulkCpuBefore;
    const admitStart = performance.now();
    const admitted = await room.admit(eventId, now + 2, policy);
    const admitMs = performance.now() - admitStart;
    const dropStart = performance.now();
    const dropped = await room.admit(eventId, now + 10 * HOUR, { ...policy, maxActive: 0 });
    const dropMs = performance.now() - dropStart;

    return {
      waiters: WAITERS,
      joinSeconds,
      joinsPerSecond: WAITERS / joinSeconds,
      redisCpuMicrosPerJoin: (joinRedisCpu / WAITERS) * 1e6,
      touches: sample.length,
      touchesPerSecond: sample.length / bulkSeconds,
      redisCpuMicrosPerTouch: (bulkRedisCpu / sample.length) * 1e6,
      usedMemoryDelta: after - before,
      usedMemoryPerWaiter: (after - before) / WAITERS,
      keyBytes,
      keyBytesPerWaiter: keyBytes / WAITERS,
      usage,
      touchMsAtBack: touchMs,
      admit100Ms: admitMs,
      admitted: admitted.admitted.length,
      dropStepMs: dropMs,
      droppedInOneStep: dropped.dropped,
    };
  } finally {
    await deletePrefix(plain, prefix);
    redis.disconnect();
    plain.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. SSE streams on one instance
// ---------------------------------------------------------------------------------------------
interface StreamClient {
  socket: net.Socket;
  buffer: string;
  messages: number;
  status: string;
  position: number;
  /** Resolvers waiting for the next message that changes status or position. */
  onChange?: (at: number) => void;
  ended: boolean;
}

function openStream(port: number, token: string, firstTimeoutMs: number): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const client: StreamClient = { socket, buffer: '', messages: 0, status: '', position: -1, ended: false };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no first message'));
    }, firstTimeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () =>
      socket.write(`GET /api/v1/queue/tokens/current/stream?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      client.buffer += chunk.toString('latin1');
      let at: number;
      while ((at = client.buffer.indexOf('data: ')) >= 0) {
        const end = client.buffer.indexOf('\n\n', at);
        if (end < 0) break;
        const message = JSON.parse(client.buffer.slice(at + 6, end)) as { status: string; position?: number };
        client.buffer = client.buffer.slice(end + 2);
        client.messages++;
        const changed = message.status !== client.status || (message.position ?? -1) !== client.position;
        client.status = message.status;
        client.position = message.position ?? -1;
        if (client.messages === 1) {
          clearTimeout(timer);
          resolve(client);
        } else if (changed && client.onChange) {
          const notify = client.onChange;
          client.onChange = undefined;
          notify(performance.now());
        }
      }
      // Heartbeats and chunk framing: keep only a possible partial message.
      if (client.buffer.length > 4096 && client.buffer.indexOf('data: ') < 0) client.buffer = '';
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      client.ended = true;
    });
  });
}

async function instanceFigures(url: string) {
  const page = await scrape(url);
  return {
    rss: metric(page, 'process_resident_memory_bytes'),
    heapUsed: metric(page, 'nodejs_heap_size_used_bytes'),
    heapTotal: metric(page, 'nodejs_heap_size_total_bytes'),
    external: metric(page, 'nodejs_external_memory_bytes'),
    cpuSeconds: metric(page, 'process_cpu_seconds_total'),
    streams: metric(page, 'ticketing_queue_streams'),
    openFds: metric(page, 'process_open_fds'),
  };
}

/** Live memory: a full GC in the instance (SIGUSR2, see gc-on-signal.ts), a moment to settle, then a scrape. */
async function settledFigures(instance: Instance) {
  for (let i = 0; i < 2; i++) {
    instance.child.kill('SIGUSR2');
    await sleep(500);
  }
  return instanceFigures(instance.url);
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
}

async function measureStreams() {
  const databaseName = 'ticketing_measure';
  const prefix = `measure:${randomBytes(4).toString('hex')}:`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;

  const adminKey = randomBytes(12).toString('base64url');
  const policy: AdmissionPolicy = { maxActive: 1, admitPerSecond: 1000, activeTtlMs: 600_000, waitingGraceMs: 600_000 };
  let instance: Instance | undefined;
  const clients: StreamClient[] = [];
  const plain = new Redis(redisUrl);
  const redis = createRedis(redisUrl, prefix);
  const room = new RedisWaitingRoom(redis);
  try {
    instance = await startInstance('measured', await freePort(), {
      DATABASE_URL: databaseUrl.toString(),
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      TOKEN_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      QUEUE_MAX_ACTIVE: String(policy.maxActive),
      QUEUE_ADMIT_PER_SECOND: String(policy.admitPerSecond),
      QUEUE_ACTIVE_TTL_SECONDS: String(policy.activeTtlMs / 1000),
      QUEUE_WAITING_GRACE_SECONDS: String(policy.waitingGraceMs / 1000),
      // Only this script moves the line, so each fan-out below is one admission and one publish.
      QUEUE_ADMIT_INTERVAL_MS: '60000',
      QUEUE_STREAM_HEARTBEAT_MS: '15000',
      RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
      RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: '1000000',
    }, { nodeArgs: ['--expose-gc', '--import', './scripts/multi-instance/gc-on-signal.ts'] });
    const url = instance.url;
    const port = instance.port;
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}/api/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as any;
      if (response.status !== 201) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };
    const event = await post('/admin/events', { code: `M-${randomUUID()}`, name: 'Measured line' }, { 'x-admin-key': adminKey });
    const eventId = event.id as string;

    const idle = await settledFigures(instance);
    const users: { id: string; accessToken: string }[] = new Array(STREAMS);
    const signupStart = performance.now();
    await pool(STREAMS, 64, async (i) => {
      users[i] = await post('/users', { userName: `m${i}` });
    });
    const signupSeconds = (performance.now() - signupStart) / 1000;
    const tokens: { userId: string; token: string }[] = new Array(STREAMS);
    const joinStart = performance.now();
    await pool(STREAMS, 64, async (i) => {
      const joined = await post('/queue/tokens', { eventId }, { authorization: `Bearer ${users[i]!.accessToken}` });
      tokens[i] = { userId: users[i]!.id, token: joined.token };
    });
    const joinSeconds = (performance.now() - joinStart) / 1000;
    const beforeStreams = await settledFigures(instance);

    const openStart = performance.now();
    await pool(STREAMS, 256, async (i) => {
      clients[i] = await openStream(port, tokens[i]!.token, 60_000);
    });
    const openSeconds = (performance.now() - openStart) / 1000;
    const withStreams = await settledFigures(instance);

    // Fan-outs: end the active buyer's turn, admit the head of the line, publish once, and time until
    // every open stream has its new status or position.
    const tidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { tid: string }).tid;
    const byUser = new Map(tokens.map((t, i) => [t.userId, i]));
    let activeIndex = clients.findIndex((c) => c.status === 'ACTIVE');
    const rounds: {
      clients: number;
      lastMs: number;
      p50Ms: number;
      p99Ms: number;
      cpuSeconds: number;
      redisCpuSeconds: number;
      scriptCalls: number;
    }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(1000);
      const active = tokens[activeIndex]!;
      await room.complete(eventId, active.userId, tidOf(active.token));
      const step = await room.admit(eventId, Date.now(), policy);
      if (step.admitted.length !== 1) throw new Error(`expected one admission, got ${step.admitted.length}`);
      activeIndex = byUser.get(step.admitted[0]!)!;
      const waiting = clients.filter((c, i) => i !== activeIndex && c.status === 'WAITING' && !c.ended);
      const expected = [clients[activeIndex]!, ...waiting];
      const arrivals = expected.map((client) => new Promise<number>((resolve) => (client.onChange = resolve)));
      const cpuBefore = (await instanceFigures(url)).cpuSeconds;
      const callsBefore = await scriptCalls(plain);
      const redisCpuBefore = await redisCpuSeconds(plain);
      const t0 = performance.now();
      await plain.publish(`${prefix}queue:moved`, eventId);
      const times = await Promise.race([
        Promise.all(arrivals),
        sleep(60_000).then(() => {
          throw new Error(`fan-out round ${round}: not every client heard within 60 s`);
        }),
      ]);
      const latencies = times.map((t) => t - t0).sort((a, b) => a - b);
      await sleep(300);
      rounds.push({
        clients: expected.length,
        lastMs: latencies.at(-1)!,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        cpuSeconds: (await instanceFigures(url)).cpuSeconds - cpuBefore,
        redisCpuSeconds: (await redisCpuSeconds(plain)) - redisCpuBefore,
        scriptCalls: (await scriptCalls(plain)) - callsBefore,
      });
    }
    const afterFanOuts = await settledFigures(instance);
    return { streams: STREAMS, signupSeconds, joinSeconds, openSeconds, idle, beforeStreams, withStreams, afterFanOuts, rounds };
  } finally {
    for (const client of clients) client?.socket.destroy();
    await instance?.stop();
    if (instance && instance.output().trim()) console.error(`instance output:\n${instance.output().slice(-4000)}`);
    await deletePrefix(plain, prefix);
    redis.disconnect();
    plain.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------------
const overall = setTimeout(() => {
  console.error('measurement took longer than 10 minutes; giving up');
  process.exit(2);
}, 600_000);
overall.unref();

console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`);

if (ONLY === 'all' || ONLY === 'redis') {
  const r = await measureRedis();
  console.log(`
Redis waiting room, ${r.waiters.toLocaleString()} waiters in one event (throwaway prefix, deleted)
  joins through RedisWaitingRoom.join: ${r.joinSeconds.toFixed(1)} s, ${Math.round(r.joinsPerSecond).toLocaleString()}/s (auto-pipelined, 1,000 in flight)
  INFO used_memory delta: ${mib(r.usedMemoryDelta)} = ${Math.round(r.usedMemoryPerWaiter)} B per waiter (whole server; other clients add noise)
  MEMORY USAGE of the event's keys: ${mib(r.keyBytes)} = ${Math.round(r.keyBytesPerWaiter)} B per waiter
${Object.entries(r.usage)
  .map(([key, u]) => `    ${key.padEnd(8)} ${mib(u.bytes).padStart(10)}  ${u.encoding}`)
  .join('\n')}
  Redis CPU per join: ${r.redisCpuMicrosPerJoin.toFixed(1)} µs
  poll at the back of the line (touch: HGET + ZSCORE + ZRANK): ${ms(r.touchMsAtBack)} per call, sequential round trips
  ${r.touches.toLocaleString()} polls of random waiters, batches of 500 (what a stream refresh pass does): ${Math.round(r.touchesPerSecond).toLocaleString()}/s, Redis CPU ${r.redisCpuMicrosPerTouch.toFixed(1)} µs each
  one admission step admitting ${r.admitted}: ${ms(r.admit100Ms)}
  one step when everyone stopped polling: dropped ${r.droppedInOneStep} in ${ms(r.dropStepMs)}`);
  console.log(JSON.stringify({ redis: r }));
}

if (ONLY === 'all' || ONLY === 'sse') {
  const s = await measureStreams();
  const per = (a: number, b: number) => `${((a - b) / s.streams / 1024).toFixed(1)} KiB`;
  console.log(`
Event streams on one instance: ${s.streams.toLocaleString()} concurrent SSE connections (raw sockets, loopback)
  ${s.streams.toLocaleString()} sign-ups over HTTP (64 in flight): ${s.signupSeconds.toFixed(1)} s; ${s.streams.toLocaleString()} queue joins: ${s.joinSeconds.toFixed(1)} s
  opening every stream until its first message (256 in flight): ${s.openSeconds.toFixed(1)} s
  instance idle:            RSS ${mib(s.idle.rss)}, heap used ${mib(s.idle.heapUsed)}, streams ${s.idle.streams}
  after joins, no streams:  RSS ${mib(s.beforeStreams.rss)}, heap used ${mib(s.beforeStreams.heapUsed)}, streams ${s.beforeStreams.streams}
  with streams open:        RSS ${mib(s.withStreams.rss)}, heap used ${mib(s.withStreams.heapUsed)}, streams ${s.withStreams.streams}, open fds ${s.withStreams.openFds}
  after ${s.rounds.length} fan-outs:          RSS ${mib(s.afterFanOuts.rss)}, heap used ${mib(s.afterFanOuts.heapUsed)}
  per stream: RSS ${per(s.withStreams.rss, s.beforeStreams.rss)}, heap ${per(s.withStreams.heapUsed, s.beforeStreams.heapUsed)} (after fan-outs: RSS ${per(s.afterFanOuts.rss, s.beforeStreams.rss)}, heap ${per(s.afterFanOuts.heapUsed, s.beforeStreams.heapUsed)})
  "line moved" fan-out (publish → every client has its new position):
${s.rounds
  .map(
    (r, i) =>
      `    round ${i + 1}: ${r.clients.toLocaleString()} clients, last ${ms(r.lastMs)}, p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, instance CPU ${r.cpuSeconds.toFixed(2)} s, Redis CPU ${r.redisCpuSeconds.toFixed(2)} s, Redis script calls ${r.scriptCalls.toLocaleString()}`,
  )
  .join('\n')}`);
  console.log(JSON.stringify({ sse: s }));
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}
process.exit(0);
