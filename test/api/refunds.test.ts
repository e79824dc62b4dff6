import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { buyer, dbRow, getReservation, holdOk, ledger, myPayments, seatStatus } from './helpers.js';

const { VIP } = HOUSE_PRICES;
const DAY_MS = 86_400_000;

describe.each(backends)('refunds and canceled dates (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'refunds');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  /** A date `daysAhead` from the test clock, and a buyer who bought its seat 1 (VIP). */
  async function bought(daysAhead = 3) {
    const event = await client.createEvent();
    const scheduleId = (await client.createSchedule(event.id, { startAt: new Date(t.clock.now().getTime() + daysAhead * DAY_MS) })).id;
    const b = await buyer(client, event.id);
    await client.charge(b.user, 50_000);
    const held = await holdOk(client, b.user, b.token, scheduleId, 1);
    const paid = await client.pay(b.user, b.token, held.id);
    expect(paid.status).toBe(201);
    return { eventId: event.id, scheduleId, ...b, reservationId: held.id, paymentId: paid.body.id as string };
  }

  it('refunds a purchase: reservation CANCELED, payment REFUNDED, one REFUND credit, the seat on sale again', async () => {
    const s = await bought();
    const reply = await client.cancel(s.user, s.reservationId);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ status: 'CANCELED', canceledAt: expect.any(String), confirmedAt: expect.any(String) });
    const [payment] = (await myPayments(client, s.user)).body;
    expect(payment).toMatchObject({ id: s.paymentId, status: 'REFUNDED', canceledAt: expect.any(String), paidAt: expect.any(String) });
    const refunds = (await ledger(client, s.user)).body.filter((row: { kind: string }) => row.kind === 'REFUND');
    expect(refunds).toEqual([expect.objectContaining({ amount: VIP, reference: s.paymentId })]);
    expect((await client.balance(s.user)).body.balance).toBe(50_000);
    // Back on sale, in the database and on the fast path (the sold marker is gone).
    const next = await buyer(client, s.eventId, 'next');
    expect(await seatStatus(client, next.token, s.scheduleId, 1)).toBe('AVAILABLE');
    await holdOk(client, next.user, next.token, s.scheduleId, 1);
  });

  it('refuses a second refund with 409 and credits once; a retry with the same key replays the first answer', async () => {
    const s = await bought();
    const first = await client.cancel(s.user, s.reservationId, 'refund-key-1');
    expect(first.status).toBe(200);
    const replay = await client.cancel(s.user, s.reservationId, 'refund-key-1');
    expect(replay.status).toBe(200);
    expectProblem(await client.cancel(s.user, s.reservationId), 409, 'RESERVATION_NOT_CANCELABLE');
    expect((await ledger(client, s.user)).body.filter((row: { kind: string }) => row.kind === 'REFUND')).toHaveLength(1);
    expect((await client.balance(s.user)).body.balance).toBe(50_000);
  });

  it('closes refunds REFUND_CUTOFF_SECONDS before the date: 409 REFUND_WINDOW_CLOSED, nothing changes', async () => {
    const s = await bought(0.5);
    expectProblem(await client.cancel(s.user, s.reservationId), 409, 'REFUND_WINDOW_CLOSED');
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CONFIRMED');
    expect((await client.balance(s.user)).body.balance).toBe(50_000 - VIP);
  });

  it('refuses to refund another user’s purchase (403)', async () => {
    const s = await bought();
    const other = await client.createUser('other');
    expectProblem(await client.cancel(other, s.reservationId), 403, 'FORBIDDEN');
  });

  it('cancels a date: every purchase refunded whatever the window, every hold released, no more holds', async () => {
    const s = await bought(0.5);
    const holder = await buyer(client, s.eventId, 'holder');
    const pending = await holdOk(client, holder.user, holder.token, s.scheduleId, 20);
    const reply = await client.cancelSchedule(s.scheduleId);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toEqual({ refunded: 1, released: 1, amountRefunded: VIP });
    expect((await getReservation(client, s.user, s.reservationId)).body.status).toBe('CANCELED');
    expect((await getReservation(client, holder.user, pending.id)).body.status).toBe('CANCELED');
    expect((await client.balance(s.user)).body.balance).toBe(50_000);
    const dates = (await client.request('GET', `/events/${s.eventId}/schedules`)).body;
    expect(dates).toEqual([expect.objectContaining({ id: s.scheduleId, status: 'CANCELED', availableSeats: 0 })]);
    expectProblem(await client.hold(holder.user, holder.token, s.scheduleId, 21), 409, 'SCHEDULE_CANCELED');
    expect((await client.cancelSchedule(s.scheduleId)).body).toEqual({ refunded: 0, released: 0, amountRefunded: 0 });
  });

  it('finishes a cancel that stopped half way, from the sweeper, refunding nothing twice', async () => {
    const s = await bought();
    const second = await buyer(client, s.eventId, 'second');
    await client.charge(second.user, 50_000);
    const hold = await holdOk(client, second.user, second.token, s.scheduleId, 11);
    expect((await client.pay(second.user, second.token, hold.id)).status).toBe(201);
    // The state a process leaves when it dies right after marking the date canceled.
    await t.infra.db.query(`UPDATE schedules SET status = 'CANCELED', canceled_at = now() WHERE id = $1`, [s.scheduleId]);
    expect(await t.services.refunds.resumeCanceledSchedules()).toBeGreaterThanOrEqual(1);
    for (const user of [s.user, second.user]) expect((await client.balance(user)).body.balance).toBe(50_000);
    const refunded = await dbRow<{ n: number }>(t, `SELECT count(*)::int AS n FROM payments p JOIN reservations r ON r.id = p.reservation_id WHERE r.schedule_id = $1 AND p.status = 'REFUNDED'`, [s.scheduleId]);
    expect(refunded.n).toBe(2);
    expect((await client.cancelSchedule(s.scheduleId)).body).toEqual({ refunded: 0, released: 0, amountRefunded: 0 });
  });

  it('answers 404 for an unknown date and 403 without the admin key', async () => {
    expectProblem(await client.cancelSchedule(crypto.randomUUID()), 404, 'NOT_FOUND');
    const anonymous = ApiClient.inject(t.app);
    expectProblem(await anonymous.request('POST', `/admin/schedules/${crypto.randomUUID()}/cancel`), 403, 'FORBIDDEN');
  });
});
