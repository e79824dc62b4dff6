/**
 * Event streams on one instance: starts one service process (own database `ticketing_measure`, dropped
 * afterwards; throwaway Redis prefix), opens `streams` concurrent SSE connections as raw sockets, reads
 * the instance's RSS/heap from /metrics before and after, and times "line moved" fan-outs: one
 * admission, one publish, until every client has its new position.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Redis } from 'ioredis';
import { queueMovedChannel } from '../../src/modules/queue/queue-events.redis.js';
import type { AdmissionPolicy } from '../../src/modules/queue/waiting-room.js';
import { RedisWaitingRoom } from '../../src/modules/queue/waiting-room.redis.js';
import { createRedis } from '../../src/shared/redis.js';
import { sleep } from '../../tools/async.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { bodyOf } from '../../tools/http/transport.js';
import { metric, scrape } from '../../tools/metrics.js';
import { startService, type ServiceProcess } from '../../tools/processes.js';
import { deleteKeysWithPrefix } from '../../tools/redis-keys.js';
import { HOUR, mib, ms, redisCpuSeconds } from './measure-support.js';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
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
async function settledFigures(instance: ServiceProcess) {
  for (let i = 0; i < 2; i++) {
    instance.child.signal('SIGUSR2');
    await sleep(500);
  }
  return instanceFigures(instance.baseUrl);
}

export async function measureStreams(options: { redisUrl: string; adminUrl: string; streams: number; rounds: number }) {
  const { redisUrl, adminUrl, streams: streamCount, rounds: roundCount } = options;
  const databaseName = 'ticketing_measure';
  const prefix = `measure:${randomBytes(4).toString('hex')}:`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;

  const adminKey = randomBytes(32).toString('base64url');
  const policy: AdmissionPolicy = { maxActive: 1, admitPerSecond: 1000, activeTtlMs: 600_000, waitingGraceMs: 600_000 };
  let instance: ServiceProcess | undefined;
  let api: ApiClient | undefined;
  const clients: StreamClient[] = [];
  const plain = new Redis(redisUrl);
  const redis = createRedis(redisUrl, prefix);
  // The instance runs with the default QUEUE_TOKEN_TTL_SECONDS (3 hours).
  const room = new RedisWaitingRoom(redis, { tokenTtlMs: 3 * HOUR });
  try {
    instance = await startService({
      name: 'measured',
      readyPath: '/ready',
      nodeArgs: ['--expose-gc', '--import', './scripts/multi-instance/gc-on-signal.ts'],
      env: {
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
      },
    });
    const url = instance.baseUrl;
    const port = instance.port;
    const client = ApiClient.http(url, { adminKey });
    api = client;
    const eventId = (await client.createEvent({ code: `M-${randomUUID()}`, name: 'Measured line' })).id;

    const idle = await settledFigures(instance);
    const users: ApiUser[] = new Array(streamCount);
    const signupStart = performance.now();
    await pool(streamCount, 64, async (i) => {
      users[i] = await client.createUser(`m${i}`);
    });
    const signupSeconds = (performance.now() - signupStart) / 1000;
    const tokens: { userId: string; token: string }[] = new Array(streamCount);
    const joinStart = performance.now();
    await pool(streamCount, 64, async (i) => {
      const joined = bodyOf(await client.join(users[i]!, eventId), 'join', 201);
      tokens[i] = { userId: users[i]!.id, token: joined.token };
    });
    const joinSeconds = (performance.now() - joinStart) / 1000;
    const beforeStreams = await settledFigures(instance);

    const openStart = performance.now();
    await pool(streamCount, 256, async (i) => {
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
    for (let round = 0; round < roundCount; round++) {
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
      await plain.spublish(prefix + queueMovedChannel(eventId), eventId);
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
    return { streams: streamCount, signupSeconds, joinSeconds, openSeconds, idle, beforeStreams, withStreams, afterFanOuts, rounds };
  } finally {
    for (const client of clients) client?.socket.destroy();
    api?.close();
    await instance?.stop();
    if (instance && instance.output().trim()) console.error(`instance output:\n${instance.output().slice(-4000)}`);
    await deleteKeysWithPrefix(plain, prefix);
    redis.disconnect();
    plain.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

export function reportStreams(s: Awaited<ReturnType<typeof measureStreams>>): void {
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
