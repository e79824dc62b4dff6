import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/async.js';
import { startService, type ServiceProcess } from '../../tools/processes.js';
import { expectInvariants } from '../support/expect.js';
import { baseEnv, faultClient, openDatabase } from './support/service.js';
import { Buyer, expectNoServerErrors, tally } from './support/storm.js';

/**
 * The real service as a child process (`node --import tsx src/main.ts`), killed with SIGKILL in the
 * middle of a hold-and-pay storm: no shutdown hook runs, transactions in flight die with their
 * connections. A second process on the same database and Redis prefix takes over.
 */
describe('kill -9 of the service mid-payment storm, then restart', () => {
  const HOLD_TTL_SECONDS = 2;
  const env = {
    ...baseEnv('kill9'),
    LOG_LEVEL: 'warn',
    HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
    HOLD_SWEEP_INTERVAL_MS: '200',
  };
  const processes: ServiceProcess[] = [];
  let db: pg.Pool;

  beforeAll(() => {
    db = openDatabase();
  });
  afterAll(async () => {
    for (const service of processes) await service.child.kill('SIGKILL');
    await db?.end();
  });

  it('money and seats stay consistent, in-flight payments resolve on retry, and the dead process’s holds expire normally', async () => {
    const first = await startService({ env });
    processes.push(first);
    let http = faultClient(first.baseUrl, 5_000);
    const { eventId, scheduleId } = await http.createEventWithSchedule();
    const scheduleIds = [scheduleId, await http.addSchedule(eventId, 1)];
    const spareSchedule = await http.addSchedule(eventId, 2);
    const budget = 100_000;
    const buyers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const user = await http.createUser(`k9-${i}`);
        expect((await http.charge(user, budget)).status).toBe(200);
        return new Buyer(http, user, eventId);
      }),
    );

    let stopped = false;
    let retryUntil = Date.now() + 60_000;
    const shopping = buyers.map((buyer) =>
      buyer.shop({ scheduleIds, stop: () => stopped, retryDeadline: () => retryUntil, payShare: 0.7, cancelShare: 0.1, pauseMs: [10, 40] }),
    );
    const paidSoFar = () => buyers.reduce((n, b) => n + b.payments.filter((p) => p.final?.status === 201).length, 0);
    await waitFor('the storm to be paying', async () => (paidSoFar() >= 5 ? true : undefined), 15_000, 20);

    // Someone is holding seats and has not paid yet, for sure, when the process dies.
    const holder = new Buyer(http, await http.createUser('k9-holder'), eventId);
    for (const seat of [1, 2, 3]) expect((await holder.hold(spareSchedule, seat))?.status).toBe(201);

    // kill -9 in the middle of it.
    const killedAt = new Date();
    process.kill(first.pid, 'SIGKILL');
    await first.child.exited;
    const paidBeforeKill = paidSoFar();

    // What the dead process left behind: its holds that nobody paid or canceled.
    const { rows: orphans } = await db.query<{ id: string; seat_id: string }>(
      `SELECT r.id, r.seat_id FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id
       WHERE sc.event_id = $1 AND r.status = 'PENDING' AND r.reserved_at <= $2`,
      [eventId, killedAt],
    );
    // A dead process's transactions do not stay open: PostgreSQL rolled them back with its connections.
    const { rows: halfDone } = await db.query(
      `SELECT p.id FROM payments p JOIN reservations r ON r.id = p.reservation_id JOIN schedules sc ON sc.id = r.schedule_id
       WHERE sc.event_id = $1 AND p.status = 'SUCCEEDED' AND r.status <> 'CONFIRMED'`,
      [eventId],
    );
    expect(halfDone).toEqual([]);
    await expectInvariants(eventId);

    const second = await startService({ env });
    processes.push(second);
    // The buyers carry on against the new process.
    http = faultClient(second.baseUrl, 5_000);
    for (const buyer of buyers) buyer.http = http;
    await sleep(1_000);
    stopped = true;
    retryUntil = Date.now() + 10_000;
    await Promise.all(shopping);

    const replies = buyers.flatMap((b) => b.replies);
    const counts = tally(replies);
    expectNoServerErrors(replies);
    // The kill really landed mid-storm: requests in flight lost their connection.
    expect(replies.filter((r) => r.status === 0).length, JSON.stringify(counts)).toBeGreaterThan(0);
    expect(paidSoFar(), JSON.stringify(counts)).toBeGreaterThan(paidBeforeKill);

    // Every payment started (including those cut off by the kill) got a definitive answer on retry, and
    // what clients were told is exactly what PostgreSQL holds: no debit without a confirmation.
    const attempts = buyers.flatMap((b) => b.payments);
    expect(attempts.filter((a) => !a.final).map((a) => a.replies.map((r) => `${r.status} ${r.body?.code ?? r.error}`))).toEqual([]);
    const { rows: paidInDb } = await db.query<{ id: string }>(
      `SELECT p.id FROM payments p JOIN reservations r ON r.id = p.reservation_id JOIN schedules sc ON sc.id = r.schedule_id
       WHERE sc.event_id = $1 AND p.status = 'SUCCEEDED'`,
      [eventId],
    );
    const paidByClient = attempts.filter((a) => a.final!.status === 201).map((a) => a.final!.body.id as string);
    expect(new Set(paidByClient).size).toBe(paidByClient.length);
    expect([...paidByClient].sort()).toEqual(paidInDb.map((p) => p.id).sort());
    for (const buyer of buyers) {
      const spent = buyer.payments.filter((a) => a.final?.status === 201).reduce((sum, a) => sum + (a.final!.body.amount as number), 0);
      const { rows } = await db.query<{ balance: number }>('SELECT balance::int FROM wallets WHERE user_id = $1', [buyer.user.id]);
      expect(rows[0]!.balance, buyer.user.id).toBe(budget - spent);
    }

    // The dead process's holds lapse on schedule and the new process's sweeper releases them.
    expect(orphans.length, 'holds left behind by the killed process').toBeGreaterThan(0);
    await waitFor(
      'the holds of the killed process to be released',
      async () => {
        const { rows } = await db.query<{ live: number }>(
          `SELECT count(*)::int AS live FROM reservations WHERE id = ANY($1::uuid[]) AND status = 'PENDING'`,
          [orphans.map((o) => o.id)],
        );
        return rows[0]!.live === 0 ? true : undefined;
      },
      HOLD_TTL_SECONDS * 1000 + 5_000,
    );
    const { rows: orphanStates } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [orphans.map((o) => o.id)],
    );
    // Each ended as EXPIRED, or was paid by its owner's retry against the new process before it lapsed.
    expect(orphanStates.filter((s) => !['EXPIRED', 'CONFIRMED', 'CANCELED'].includes(s.status))).toEqual([]);
    // Once every hold's time is up, the sweeper leaves no seat of the event HELD.
    await waitFor(
      'no seat of the event to be HELD',
      async () => {
        const { rows } = await db.query(
          `SELECT s.id FROM seats s JOIN schedules sc ON sc.id = s.schedule_id WHERE sc.event_id = $1 AND s.status = 'HELD'`,
          [eventId],
        );
        return rows.length === 0 ? true : undefined;
      },
      HOLD_TTL_SECONDS * 1000 + 5_000,
    );

    // A freed seat can be bought again through the new process (its Redis fast-path lock lapsed too).
    const { rows: free } = await db.query<{ schedule_id: string; seat_number: number }>(
      `SELECT s.schedule_id, s.seat_number FROM seats s JOIN reservations r ON r.seat_id = s.id
       WHERE r.id = ANY($1::uuid[]) AND r.status = 'EXPIRED' AND s.status = 'AVAILABLE' LIMIT 1`,
      [orphans.map((o) => o.id)],
    );
    if (free[0]) {
      const late = new Buyer(http, await http.createUser('late'), eventId);
      const reply = await late.hold(free[0].schedule_id, free[0].seat_number);
      expect(reply?.status, JSON.stringify(reply?.body)).toBe(201);
    }

    await expectInvariants(eventId);
    expect(second.child.output()).not.toMatch(/"level":50|unhandled error/);
  }, 50_000);
});
