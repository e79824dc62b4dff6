import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { buyer, currentQueue, getReservation, HOLD_TTL_MS, holdOk, ledger, myPayments, seatStatus } from './helpers.js';

const { VIP, STANDARD } = HOUSE_PRICES;

describe.each(backends)('several seats in one payment (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'multiseat');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  /** A buyer holding the given seats with `funds` in the wallet. */
  async function holding(seats: number[], funds: number) {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const b = await buyer(client, eventId);
    if (funds > 0) await client.charge(b.user, funds);
    const holds = [];
    for (const seat of seats) holds.push(await holdOk(client, b.user, b.token, scheduleId, seat));
    return { eventId, scheduleId, ...b, ids: holds.map((hold) => hold.id) };
  }

  it('pays three holds with one debit of the total: a SUCCEEDED payment each, every seat SOLD', async () => {
    const s = await holding([1, 11, 12], 50_000);
    const reply = await client.payAll(s.user, s.token, s.ids);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const total = VIP + 2 * STANDARD;
    expect(reply.body.amount).toBe(total);
    expect(reply.body.payments.map((p: { reservationId: string; status: string }) => [p.reservationId, p.status])).toEqual(
      s.ids.map((id) => [id, 'SUCCEEDED']),
    );
    expect((await client.balance(s.user)).body.balance).toBe(50_000 - total);
    const debits = (await ledger(client, s.user)).body.filter((row: { kind: string }) => row.kind === 'PAYMENT');
    expect(debits).toEqual([expect.objectContaining({ amount: -total })]);
    for (const id of s.ids) expect((await getReservation(client, s.user, id)).body.status).toBe('CONFIRMED');
    const viewer = await buyer(client, s.eventId, 'viewer');
    for (const seat of [1, 11, 12]) expect(await seatStatus(client, viewer.token, s.scheduleId, seat)).toBe('SOLD');
  });

  it('with a balance short of the total: 402, a FAILED payment for each hold, every hold released', async () => {
    const s = await holding([2, 13], VIP);
    expectProblem(await client.payAll(s.user, s.token, s.ids), 402, 'INSUFFICIENT_BALANCE');
    expect((await myPayments(client, s.user)).body.map((p: { status: string }) => p.status)).toEqual(['FAILED', 'FAILED']);
    for (const id of s.ids) expect((await getReservation(client, s.user, id)).body.status).toBe('CANCELED');
    expect((await client.balance(s.user)).body.balance).toBe(VIP);
  });

  it('with one hold lapsed: 410, nothing paid, the lapsed one EXPIRED, the other still payable', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const b = await buyer(client, eventId);
    await client.charge(b.user, 50_000);
    const old = await holdOk(client, b.user, b.token, scheduleId, 3);
    t.clock.advance(HOLD_TTL_MS - 1_000);
    const fresh = await holdOk(client, b.user, b.token, scheduleId, 14);
    t.clock.advance(2_000);
    expectProblem(await client.payAll(b.user, b.token, [old.id, fresh.id]), 410, 'RESERVATION_EXPIRED');
    expect((await client.balance(b.user)).body.balance).toBe(50_000);
    expect((await getReservation(client, b.user, old.id)).body.status).toBe('EXPIRED');
    expect((await getReservation(client, b.user, fresh.id)).body.status).toBe('PENDING');
    expect((await client.payAll(b.user, b.token, [fresh.id])).status).toBe(201);
  });

  it("with another user's hold among them: 403 and nothing changes", async () => {
    const s = await holding([4], 50_000);
    const other = await buyer(client, s.eventId, 'other');
    const theirs = await holdOk(client, other.user, other.token, s.scheduleId, 5);
    expectProblem(await client.payAll(s.user, s.token, [s.ids[0]!, theirs.id]), 403, 'FORBIDDEN');
    expect((await getReservation(client, s.user, s.ids[0]!)).body.status).toBe('PENDING');
    expect((await client.balance(s.user)).body.balance).toBe(50_000);
    expect((await myPayments(client, s.user)).body).toEqual([]);
  });

  it('refuses more reservations than HOLD_MAX_PER_USER, or none, with 400', async () => {
    const s = await holding([6], 50_000);
    const many = [...s.ids, ...Array.from({ length: 4 }, () => crypto.randomUUID())];
    expectProblem(await client.payAll(s.user, s.token, many), 400, 'VALIDATION_FAILED');
    expectProblem(await client.payAll(s.user, s.token, []), 400, 'VALIDATION_FAILED');
  });

  it('keeps the queue turn until nothing is left to pay: the same token pays the holds one by one', async () => {
    const s = await holding([7, 15], 50_000);
    expect((await client.pay(s.user, s.token, s.ids[0]!)).status).toBe(201);
    expect((await currentQueue(client, s.token)).body.status).toBe('ACTIVE');
    expect((await client.pay(s.user, s.token, s.ids[1]!)).status).toBe(201);
    expectProblem(await currentQueue(client, s.token), 401, 'QUEUE_TOKEN_EXPIRED');
  });

  it('gives the same outcome for concurrent payments of one buyer on every backend: all succeed, then the turn ends', async () => {
    const s = await holding([8, 16, 17], 50_000);
    const replies = await Promise.all(s.ids.map((id) => client.pay(s.user, s.token, id)));
    expect(replies.map((reply) => reply.status)).toEqual([201, 201, 201]);
    expectProblem(await currentQueue(client, s.token), 401, 'QUEUE_TOKEN_EXPIRED');
  });

  it('replays a purchase retried with the same key, and refuses the key for other reservations', async () => {
    const s = await holding([9, 18], 50_000);
    const first = await client.payAll(s.user, s.token, s.ids, 'purchase-key-1');
    expect(first.status).toBe(201);
    const again = await client.payAll(s.user, s.token, [...s.ids].reverse(), 'purchase-key-1');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expectProblem(await client.payAll(s.user, s.token, [s.ids[0]!], 'purchase-key-1'), 409, 'IDEMPOTENCY_CONFLICT');
    expect((await client.balance(s.user)).body.balance).toBe(50_000 - VIP - STANDARD);
  });
});
