import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { freePort } from '../../tools/net.js';
import { startService, stopAll, type ServiceProcess } from '../../tools/processes.js';
import { Stream } from '../../tools/sse.js';
import { redisBackends, redisEnv } from '../support/redis-backends.js';
import { ADMIN_KEY, ownDatabase, type OwnDatabase } from '../support/test-app.js';

/**
 * Operating one sale across three real instances on one PostgreSQL and one Redis: the opening is drawn
 * once for the fleet and the line keeps that order, a control set through one instance holds on all,
 * and SOLD_OUT reaches the streams open on every instance. Each buyer talks to one instance (buyer i to
 * instance i mod 3) and the operator to another, so only the stores connect them.
 */
const INSTANCES = 3;
const EARLY = 30;
const LATE = 5;
const BUYERS = 13; // 13 × 4 seats covers the 50

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${ms} ms`);
    await sleep(50);
  }
}

describe.each(redisBackends)(`operating a sale across ${INSTANCES} instances (%s)`, (backend) => {
  const instances: ServiceProcess[] = [];
  const apis: ApiClient[] = [];
  const streams: Stream[] = [];
  // A database of its own: every instance draws the due openings it finds in its database from its own
  // key prefix, so another file's fleet sharing the run's database would draw this sale with an empty
  // pre-queue (it did, when the race files ran side by side).
  let database: OwnDatabase | undefined;

  beforeAll(async () => {
    database = await ownDatabase(`ops_race_${backend}`.replace(/\W/g, '_'));
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '5',
      ...redisEnv(backend),
      REDIS_KEY_PREFIX: `${inject('redisPrefix')}ops:`,
      TOKEN_SECRET: 'operations-secret-operations-secret-0123',
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      QUEUE_MAX_ACTIVE: '100',
      QUEUE_ADMIT_PER_SECOND: '1000',
      QUEUE_ADMIT_INTERVAL_MS: '100',
      QUEUE_STREAM_HEARTBEAT_MS: '1000',
      RATE_LIMIT_SIGNUPS_PER_MINUTE: '1000000',
      RATE_LIMIT_HOLDS_PER_MINUTE: '1000000',
      RATE_LIMIT_CHARGES_PER_MINUTE: '1000000',
      RATE_LIMIT_PAYMENTS_PER_MINUTE: '1000000',
    };
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    const started = await Promise.allSettled(ports.map((port, i) => startService({ name: `ops-${i}`, port, env, readyPath: '/ready' })));
    for (const result of started) if (result.status === 'fulfilled') instances.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const instance of instances) apis.push(ApiClient.http(instance.baseUrl, { adminKey: ADMIN_KEY }));
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await stopAll(instances);
    await database?.drop();
  });

  it('draws the opening once, applies controls everywhere, keeps the drawn order, and tells every instance\'s streams SOLD_OUT', async () => {
    onTestFailed(() => {
      for (const instance of instances) console.error(`--- ${instance.name} output ---\n${instance.output()}`);
    });
    const api = (i: number) => apis[i % INSTANCES]!;
    const event = await api(0).createEvent();
    const eventId = event.id;
    const scheduleId = await api(0).addSchedule(eventId, 2);
    // Paused through one instance, scheduled through another; the buyers join through all three.
    await api(1).patchQueue(eventId, { paused: true, maxActive: 4 });
    const users = await Promise.all(Array.from({ length: EARLY }, (_, i) => api(i).createUser(`early-${i}`)));
    const opensAt = Date.now() + 6_000;
    await api(2).patchEvent(eventId, { salesStartAt: new Date(opensAt).toISOString() });
    const commitment = (await api(0).fairness(eventId)).body.commitment as string;

    const early: { user: ApiUser; token: string; i: number }[] = [];
    for (let i = 0; i < EARLY; i++) {
      const user = users[i]!;
      const joined = await api(i).join(user, eventId);
      expect(joined.body, `join ${i}: ${JSON.stringify(joined.body)}`).toMatchObject({ status: 'WAITING', position: null, joinNumber: i + 1 });
      early.push({ user, token: joined.body.token, i });
    }
    for (const buyer of early) {
      const url = `${instances[buyer.i % INSTANCES]!.baseUrl}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(buyer.token)}`;
      streams[buyer.i] = new Stream(url);
    }
    expect(Date.now(), 'the joins took longer than the time to the opening').toBeLessThan(opensAt);
    await sleep(Math.max(0, opensAt - Date.now()) + 200);

    // The draw: recorded once, the published order is what the committed seed gives.
    const fairness = (await eventually('opening', () => api(1).fairness(eventId), (reply) => reply.body.opened)).body;
    expect(fairness.commitment).toBe(commitment);
    expect(sha256(fairness.seed)).toBe(commitment);
    expect(fairness.prequeue).toEqual(early.map((_, i) => i + 1));
    const recomputed = [...fairness.prequeue].sort((a: number, b: number) => (sha256(`${fairness.seed}:${a}`) < sha256(`${fairness.seed}:${b}`) ? -1 : 1));
    expect(fairness.order).toEqual(recomputed);

    // Paused on every instance: each buyer's instance shows the drawn place, and nobody is admitted.
    const late: typeof early = [];
    for (let i = EARLY; i < EARLY + LATE; i++) {
      const user = await api(i).createUser(`late-${i}`);
      const joined = await api(i).join(user, eventId);
      late.push({ user, token: joined.body.token, i });
    }
    await sleep(500);
    const placeOf = (joinNumber: number) => (fairness.order as number[]).indexOf(joinNumber) + 1;
    for (const buyer of [...early, ...late]) {
      const view = (await api(buyer.i).queueStatus(buyer.token)).body;
      const position = buyer.i < EARLY ? placeOf(buyer.i + 1) : buyer.i + 1;
      expect(view, `buyer ${buyer.i}`).toMatchObject({ status: 'WAITING', paused: true, position });
    }
    expect((await api(2).queueControls(eventId)).body).toMatchObject({ paused: true, active: 0, waiting: EARLY + LATE, admittedTotal: 0 });

    // Resumed through another instance: the head of the drawn order, and only it, is admitted.
    await api(0).patchQueue(eventId, { paused: false });
    const firstFour = (fairness.order as number[]).slice(0, 4);
    await Promise.all(firstFour.map((joinNumber) => streams[joinNumber - 1]!.until((m) => m.status === 'ACTIVE')));
    await api(2).patchQueue(eventId, { maxActive: BUYERS });
    const admitted = (fairness.order as number[]).slice(0, BUYERS);
    await Promise.all(admitted.map((joinNumber) => streams[joinNumber - 1]!.until((m) => m.status === 'ACTIVE')));
    const controls = (await api(1).queueControls(eventId)).body;
    expect(controls).toMatchObject({ active: BUYERS, waiting: EARLY + LATE - BUYERS, admittedTotal: BUYERS });

    // Paused again, so the turns the purchases end go to nobody: everyone else is still waiting at the sell-out.
    await api(0).patchQueue(eventId, { paused: true });
    // The admitted buy every seat, four each, through their own instances.
    await Promise.all(
      admitted.map(async (joinNumber, k) => {
        const buyer = early[joinNumber - 1]!;
        await api(buyer.i).charge(buyer.user, 1_000_000);
        const seats = Array.from({ length: 4 }, (_, s) => k * 4 + s + 1).filter((seat) => seat <= 50);
        if (seats.length === 0) return;
        const holds = [];
        for (const seat of seats) {
          const hold = await api(buyer.i).hold(buyer.user, buyer.token, scheduleId, seat);
          expect(hold.status, JSON.stringify(hold.body)).toBe(201);
          holds.push(hold.body.id);
        }
        const paid = await api(buyer.i).payAll(buyer.user, buyer.token, holds);
        expect(paid.status, JSON.stringify(paid.body)).toBe(201);
      }),
    );

    // Sold out: every waiter's stream, on every instance, hears SOLD_OUT and ends; joins are refused everywhere.
    const waiters = early.filter((buyer) => !admitted.includes(buyer.i + 1));
    await Promise.all(waiters.map((buyer) => streams[buyer.i]!.done));
    for (const buyer of waiters) expect(streams[buyer.i]!.messages.at(-1)?.status, `stream ${buyer.i}`).toBe('SOLD_OUT');
    expect(new Set(waiters.map((buyer) => buyer.i % INSTANCES)).size).toBe(INSTANCES);
    for (const buyer of late) expect((await api(buyer.i).queueStatus(buyer.token)).body).toMatchObject({ status: 'SOLD_OUT' });
    for (let i = 0; i < INSTANCES; i++) {
      const reply = await api(i).join(await api(i).createUser('too-late'), eventId);
      expect(reply.status).toBe(409);
      expect(reply.body.code).toBe('EVENT_SOLD_OUT');
    }
    expect((await api(0).queueControls(eventId)).body).toMatchObject({ soldOut: true, seatsLeft: 0, waiting: 0 });
    for (const instance of instances) expect(instance.output(), instance.name).not.toMatch(/"level":(50|60)/);
  }, 60_000);
});
