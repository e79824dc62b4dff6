import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import type { ApiClient } from '../../tools/http/api-client.js';
import { Stream } from '../../tools/sse.js';
import { redisBackends } from '../support/redis-backends.js';
import type { TestApp } from '../support/test-app.js';
import { admittedUsers, countBy, startRaceApp } from './support.js';

const BUYERS = 70;
const READERS_PER_INSTANCE = 4;
type Seat = { seatNumber: number; status: string };
const RANK: Record<string, number> = { AVAILABLE: 0, HELD: 1, SOLD: 2 };

/**
 * Two instances on one PostgreSQL database and one Redis key prefix, each with its own seat-map cache.
 * Buyers hold and pay through either instance while readers read the maps through both, some with
 * If-None-Match. Seats only move forward here (AVAILABLE → HELD → SOLD), so a read is stale exactly when
 * it shows a seat behind a change whose answer had arrived before the read was sent.
 */
describe.each(redisBackends)('seat map on two instances under concurrent holds, payments and reads (%s)', (backend) => {
  const instances: { t: TestApp; api: ApiClient; base: string }[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const { t, api } = await startRaceApp({ SEAT_MAP_STREAM_HEARTBEAT_MS: '60000' }, backend);
      const { port } = t.app.server.address() as { port: number };
      instances.push({ t, api, base: `http://127.0.0.1:${port}` });
    }
  });
  afterAll(() => Promise.all(instances.map(({ t, api }) => (api.close(), t.close()))));

  it(`${BUYERS} buyers holding and paying through both instances: no read sent after a change's answer misses it`, async () => {
    const via = (i: number) => instances[i % 2]!.api;
    const { eventId, scheduleId } = await via(0).createEventWithSchedule();
    const dates = [scheduleId, await via(0).addSchedule(eventId, 1)];
    const buyers = await admittedUsers(via(0), eventId, BUYERS);
    const readers = await admittedUsers(via(1), eventId, 2 * READERS_PER_INSTANCE + 2);
    await Promise.all(buyers.map((b) => via(0).charge(b, HOUSE_PRICES.VIP)));

    // Per date and seat, the times (performance.now) at which an answer reported it HELD or SOLD.
    const acked = new Map(dates.map((date) => [date, new Map<number, { rank: number; at: number }[]>()]));
    const ack = (date: string, seatNumber: number, status: 'HELD' | 'SOLD') => {
      const seats = acked.get(date)!;
      seats.set(seatNumber, [...(seats.get(seatNumber) ?? []), { rank: RANK[status]!, at: performance.now() }]);
    };
    const stale: string[] = [];
    let checked = 0;
    const check = (date: string, seats: Seat[], sentAt: number, how: string) => {
      for (const seat of seats) {
        const due = Math.max(0, ...(acked.get(date)!.get(seat.seatNumber) ?? []).filter((a) => a.at < sentAt).map((a) => a.rank));
        if (due > 0) checked++;
        if (RANK[seat.status]! < due) stale.push(`${how}: seat ${seat.seatNumber} ${seat.status}, answered ${due === 2 ? 'SOLD' : 'HELD'} before the read`);
      }
    };

    // Streams on both instances, following both dates from before the first write.
    const streams = dates.flatMap((date, d) =>
      instances.map(({ base }, i) => ({
        date,
        stream: new Stream<Seat[]>(`${base}/api/v1/schedules/${date}/seats/stream?token=${encodeURIComponent(readers.at(-1 - ((d * 2 + i) % 2))!.queueToken)}`),
      })),
    );
    await Promise.all(streams.map(({ stream }) => stream.until(() => true)));

    let writing = true;
    const reads: Record<string, number> = {};
    const reading = readers.slice(0, 2 * READERS_PER_INSTANCE).map(async (reader, r) => {
      const api = via(r);
      const conditional = r % 4 >= 2;
      const last = new Map<string, { etag: string; seats: Seat[] }>();
      const read = async (date: string) => {
        const known = last.get(date);
        const sentAt = performance.now();
        const headers: Record<string, string> = conditional && known ? { 'if-none-match': known.etag } : {};
        const reply = await api.request('GET', `/schedules/${date}/seats`, { queueToken: reader.queueToken, headers });
        expect([200, 304]).toContain(reply.status);
        const seats = reply.status === 304 ? known!.seats : (reply.body as Seat[]);
        if (reply.status === 200) last.set(date, { etag: reply.headers.etag!, seats });
        check(date, seats, sentAt, `reader ${r} on instance ${r % 2}${reply.status === 304 ? ' (304)' : ''}`);
        reads[reply.status] = (reads[reply.status] ?? 0) + 1;
      };
      for (let n = 0; writing; n++) await read(dates[n % 2]!);
      // Once the writes are over, each date is read twice more: under a busy machine every read above may
      // have found its date changed, and these make sure the conditional path (a 304 with a map that must
      // still show every answered change) is exercised, not left to timing.
      for (const date of [...dates, ...dates]) await read(date);
    });

    // Buyers pause a little between steps, so the writes spread over the readers' time.
    const pause = () => sleep(Math.random() * 40);
    const outcomes: string[] = [];
    await Promise.all(
      buyers.map(async (buyer, i) => {
        for (let attempt = 0; attempt < 50; attempt++) {
          await pause();
          const date = dates[(i + attempt) % 2]!;
          const seatNumber = 1 + Math.floor(Math.random() * 50);
          const hold = await via(i + attempt).hold(buyer, buyer.queueToken, date, seatNumber);
          outcomes.push(`hold ${hold.status}`);
          if (hold.status !== 201) continue;
          ack(date, seatNumber, 'HELD');
          await pause();
          const paid = await via(i + attempt + 1).pay(buyer, buyer.queueToken, hold.body.id);
          outcomes.push(`pay ${paid.status}`);
          expect(paid.status, JSON.stringify(paid.body)).toBe(201);
          ack(date, seatNumber, 'SOLD');
          return;
        }
      }),
    );
    writing = false;
    await Promise.all(reading);

    const counts = countBy(outcomes, (outcome) => outcome);
    expect(counts['hold 201']).toBe(BUYERS);
    expect(counts['pay 201']).toBe(BUYERS);
    // Enough reads, full and 304, came after answers they had to reflect for the check to mean something.
    expect(reads[200], JSON.stringify(reads)).toBeGreaterThan(50);
    expect(reads[304], JSON.stringify(reads)).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(500);
    expect(stale).toEqual([]);

    // In the end every instance and every stream shows what PostgreSQL holds.
    for (const date of dates) {
      const { rows } = await instances[0]!.t.infra.db.query<{ seat_number: number }>(
        `SELECT seat_number FROM seats WHERE schedule_id = $1 AND status = 'SOLD' ORDER BY seat_number`,
        [date],
      );
      const sold = rows.map((row) => row.seat_number);
      const soldIn = (seats: Seat[]) => seats.filter((seat) => seat.status === 'SOLD').map((seat) => seat.seatNumber);
      for (let i = 0; i < 2; i++) expect(soldIn((await via(i).seats(readers[0]!.queueToken, date)).body)).toEqual(sold);
      for (const { stream } of streams.filter((s) => s.date === date)) {
        await vi.waitFor(() => expect(soldIn(stream.messages.at(-1)!)).toEqual(sold), { timeout: 5_000 });
      }
    }
    for (const { stream } of streams) stream.close();
  }, 60_000);
});
