import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/async.js';
import type { ApiClient, ApiUser } from '../../tools/http/api-client.js';
import { startService, type ServiceProcess } from '../../tools/processes.js';
import { faultClient } from './support/service.js';

/**
 * The embedded default with PGLITE_DATA_DIR: the real service process, no DATABASE_URL or REDIS_URL,
 * demo seeding left at its default (on). Everything a buyer committed must survive clean restarts and
 * a kill -9 of an idle process, and start-up must neither re-run migrations nor re-seed the demo.
 */
describe('embedded mode on disk (PGLITE_DATA_DIR): restarts keep every committed row', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ticketing-pglite-'));
    env = {
      PGLITE_DATA_DIR: dataDir,
      // Fixed secrets: a generated one would change per process and void the buyer's bearer token.
      TOKEN_SECRET: 'embedded-restart-secret-embedded-restart-0123',
      ADMIN_API_KEY: 'embedded-restart-admin-key-embedded-restart',
      LOG_LEVEL: 'info',
      QUEUE_ADMIT_INTERVAL_MS: '50',
      // Admission is polled by re-joining, which the per-user join limit would otherwise cut short.
      RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: '1000',
    };
  });
  afterAll(async () => {
    await service?.child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<ApiClient> => {
    // PGlite compiles its WASM and replays its log at start-up: seconds on an idle machine, far more on a busy one.
    service = await startService({ env, timeoutMs: 60_000 });
    return faultClient(service.baseUrl, 5_000);
  };

  /** Stops the running process; a clean stop is one that logs its last line and exits by itself. */
  const stop = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const stopping = service!;
    service = undefined;
    process.kill(stopping.pid, signal);
    const exited = await Promise.race([stopping.child.exited.then(() => true), sleep(10_000).then(() => false)]);
    expect(exited, `the service still running 10 s after ${signal}`).toBe(true);
    if (signal === 'SIGTERM') expect(stopping.child.output()).toMatch(/"msg":"stopped"/);
    expect(stopping.child.output()).not.toMatch(/"level":50|unhandled error/);
  };

  const admitted = (http: ApiClient, user: ApiUser, eventId: string) =>
    waitFor(
      `${user.id} to be admitted`,
      async () => {
        const reply = await http.join(user, eventId);
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        return reply.body.status === 'ACTIVE' ? (reply.body.token as string) : undefined;
      },
      5_000,
    );

  const demoEvents = async (http: ApiClient) => {
    const reply = await http.request('GET', '/events');
    expect(reply.status).toBe(200);
    return (reply.body as { id: string; code: string }[]).filter((event) => event.code === 'DEMO-CONCERT');
  };

  /** What one buyer has committed so far, as the API reports it. */
  interface Committed {
    user: ApiUser;
    eventId: string;
    scheduleId: string;
    balance: number;
    payments: Record<string, unknown>[];
    soldSeats: number[];
  }

  const buySeat = async (http: ApiClient, state: Committed, seatNumber: number) => {
    const queueToken = await admitted(http, state.user, state.eventId);
    const seats = await http.seats(queueToken, state.scheduleId);
    expect(seats.status).toBe(200);
    const seat = (seats.body as { seatNumber: number; price: number; status: string }[]).find((s) => s.seatNumber === seatNumber)!;
    expect(seat.status).toBe('AVAILABLE');
    const charged = await http.charge(state.user, seat.price);
    expect(charged.status, JSON.stringify(charged.body)).toBe(200);
    const held = await http.hold(state.user, queueToken, state.scheduleId, seatNumber);
    expect(held.status, JSON.stringify(held.body)).toBe(201);
    const paid = await http.pay(state.user, queueToken, held.body.id);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body.status).toBe('SUCCEEDED');
    state.payments.unshift(paid.body);
    state.soldSeats.push(seatNumber);
  };

  const expectAllThere = async (http: ApiClient, state: Committed) => {
    const me = await http.request('GET', '/users/me', { user: state.user });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body.id).toBe(state.user.id);
    expect((await http.request('GET', '/users/me/balance', { user: state.user })).body).toEqual({ balance: state.balance });
    const payments = await http.request('GET', '/users/me/payments', { user: state.user });
    expect(payments.body).toEqual(state.payments);
    for (const payment of state.payments) {
      const reservation = await http.request('GET', `/reservations/${String(payment.reservationId)}`, { user: state.user });
      expect(reservation.body.status).toBe('CONFIRMED');
    }
    expect((await demoEvents(http)).map((event) => event.id)).toEqual([state.eventId]);
    const schedules = await http.request('GET', `/events/${state.eventId}/schedules`);
    expect(schedules.body).toHaveLength(3);
    const schedule = (schedules.body as { id: string; totalSeats: number; availableSeats: number }[]).find((s) => s.id === state.scheduleId)!;
    expect(schedule.availableSeats).toBe(schedule.totalSeats - state.soldSeats.length);
    const seats = await http.seats(await admitted(http, state.user, state.eventId), state.scheduleId);
    const sold = (seats.body as { seatNumber: number; status: string }[]).filter((s) => s.status === 'SOLD').map((s) => s.seatNumber);
    expect(sold.sort()).toEqual([...state.soldSeats].sort());
  };

  it('survives two SIGTERM restarts and a kill -9 of an idle process, seeding the demo event once', async () => {
    let http = await start();
    const [demo] = await demoEvents(http);
    expect(demo, 'the demo event is seeded on first start').toBeDefined();
    const schedules = await http.request('GET', `/events/${demo!.id}/schedules`);
    const state: Committed = {
      user: await http.createUser('persisted'),
      eventId: demo!.id,
      scheduleId: schedules.body[0].id,
      balance: 1_000,
      payments: [],
      soldSeats: [],
    };
    // Money left over after the purchase, so the balance check is not trivially zero.
    expect((await http.charge(state.user, 1_000)).status).toBe(200);
    await buySeat(http, state, 1);
    await expectAllThere(http, state);

    for (const restart of ['first', 'second']) {
      await stop('SIGTERM');
      http = await start();
      await expectAllThere(http, state).catch((error: Error) => {
        throw new Error(`after the ${restart} clean restart: ${error.message}`);
      });
    }

    // Committed by this process and never followed by a clean shutdown: the kill must not lose it.
    await buySeat(http, state, 2);
    await expectAllThere(http, state);
    await stop('SIGKILL');
    http = await start();
    await expectAllThere(http, state);
    await stop('SIGTERM');
  }, 180_000);
});
