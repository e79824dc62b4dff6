import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { currentQueue } from './helpers.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The published recipe, restated here rather than imported: a check that shares the code it checks proves nothing. */
const recompute = (seed: string, prequeue: number[]) =>
  [...prequeue].sort((a, b) => (sha256(`${seed}:${a}`) < sha256(`${seed}:${b}`) ? -1 : 1));

describe.each(backends)('operating a sale (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'operations', { QUEUE_MAX_ACTIVE: '3', QUEUE_ACTIVE_PER_SEAT: '2' });
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  /** One admission tick as every instance runs it: the sale's operations, then the admission step. */
  const tick = async () => {
    await t.services.operations.tick(await t.services.queue.events());
    await t.services.queue.admitAll();
  };
  const users = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => client.createUser(`u${i}`)));

  describe('PATCH /admin/events/{id}', () => {
    it('renames, disables and enables an event, and schedules its opening with a published commitment', async () => {
      const { eventId } = await client.createEventWithSchedule();
      const opensAt = new Date(t.clock.now().getTime() + 60_000).toISOString();
      const patched = await client.patchEvent(eventId, { name: 'Renamed', description: 'New words', salesStartAt: opensAt });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id: eventId, name: 'Renamed', description: 'New words', enabled: true, salesStartAt: opensAt, salesOpenedAt: null });
      const fairness = (await client.fairness(eventId)).body;
      expect(fairness).toMatchObject({ eventId, salesStartAt: opensAt, opened: false, seed: null, prequeue: [], order: [] });
      expect(fairness.commitment).toMatch(/^[0-9a-f]{64}$/);
      // Moving the opening keeps the seed it committed to.
      const later = new Date(t.clock.now().getTime() + 120_000).toISOString();
      await client.patchEvent(eventId, { salesStartAt: later });
      expect((await client.fairness(eventId)).body.commitment).toBe(fairness.commitment);

      expect((await client.patchEvent(eventId, { enabled: false })).body.enabled).toBe(false);
      expect((await client.request('GET', '/events')).body.map((e: { id: string }) => e.id)).not.toContain(eventId);
      expect((await client.patchEvent(eventId, { enabled: true })).body.enabled).toBe(true);
    });

    it('refuses nonsense with 400, an unknown event with 404 and a missing key with 403', async () => {
      const { eventId } = await client.createEventWithSchedule();
      for (const body of [{}, { salesStartAt: 'tomorrow' }, { enabled: 'yes' }, { name: '' }, { colour: 'red' }]) {
        expectProblem(await client.request('PATCH', `/admin/events/${eventId}`, { admin: true, body }), 400, 'VALIDATION_FAILED');
      }
      expectProblem(await client.patchEvent(randomUUID(), { name: 'x' }), 404, 'NOT_FOUND');
      expectProblem(await client.request('PATCH', `/admin/events/${eventId}`, { body: { name: 'x' } }), 403, 'FORBIDDEN');
      expectProblem(await client.fairness(randomUUID()), 404, 'NOT_FOUND');
    });
  });

  describe('a scheduled opening', () => {
    it('keeps early joiners in a pre-queue, draws their order at the opening as published, and queues later joiners behind', async () => {
      const { eventId, scheduleId } = await client.createEventWithSchedule();
      const opensAt = t.clock.now().getTime() + 10_000;
      await client.patchEvent(eventId, { salesStartAt: new Date(opensAt).toISOString() });
      const early = await users(8);
      const tokens: string[] = [];
      for (const user of early) {
        const joined = await client.join(user, eventId);
        expect(joined.body).toMatchObject({ status: 'WAITING', position: null, opensAt: new Date(opensAt).toISOString() });
        tokens.push(joined.body.token);
      }
      expectProblem(await client.seats(tokens[0]!, scheduleId), 403, 'QUEUE_NOT_ADMITTED');
      await tick();
      expect((await currentQueue(client, tokens[0])).body).toMatchObject({ status: 'WAITING', position: null });
      expect((await client.queueControls(eventId)).body).toMatchObject({ waiting: 8, active: 0, opened: false });

      t.clock.advance(opensAt + 1 - t.clock.now().getTime());
      const late = await client.createUser('late');
      expect((await client.join(late, eventId)).body.status).toBe('WAITING');
      await tick();

      const fairness = (await client.fairness(eventId)).body;
      expect(fairness).toMatchObject({ opened: true, prequeue: [1, 2, 3, 4, 5, 6, 7, 8] });
      expect(sha256(fairness.seed)).toBe(fairness.commitment);
      expect(fairness.order).toEqual(recompute(fairness.seed, fairness.prequeue));
      // Join seq n is early[n - 1]; the first three of the draw are admitted (capacity 3), the rest wait in drawn order.
      const views = await Promise.all(tokens.map((token) => currentQueue(client, token)));
      expect(views.map((view) => view.body.joinNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      fairness.order.forEach((seq: number, place: number) => {
        const view = views[seq - 1]!.body;
        expect(view).toMatchObject(place < 3 ? { status: 'ACTIVE', position: 0 } : { status: 'WAITING', position: place - 2 });
      });
      const lateView = (await client.join(late, eventId)).body;
      expect(lateView).toMatchObject({ status: 'WAITING', position: 6 });
      expect(await t.infra.waitingRoom.admissionLog(eventId)).toEqual(fairness.order.slice(0, 3));

      // Another tick, another instance: the draw is not made twice.
      await tick();
      expect((await client.fairness(eventId)).body.order).toEqual(fairness.order);
      expectProblem(await client.patchEvent(eventId, { salesStartAt: new Date(opensAt + 60_000).toISOString() }), 409, 'SALE_ALREADY_OPEN');
      expect((await client.patchEvent(eventId, { salesStartAt: new Date(opensAt).toISOString(), name: 'Same opening' })).status).toBe(200);
    });

    it('opens a scheduled sale at once when its opening is cleared, still drawing the pre-queue', async () => {
      const { eventId } = await client.createEventWithSchedule();
      await client.patchEvent(eventId, { salesStartAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString() });
      const [a, b] = await users(2);
      await client.join(a!, eventId);
      await client.join(b!, eventId);
      const cleared = await client.patchEvent(eventId, { salesStartAt: null });
      expect(cleared.body.salesStartAt).not.toBeNull();
      await tick();
      const fairness = (await client.fairness(eventId)).body;
      expect(fairness).toMatchObject({ opened: true, prequeue: [1, 2] });
      expect((await client.queueControls(eventId)).body).toMatchObject({ active: 2, waiting: 0, opened: true });
    });
  });

  describe('live controls', () => {
    it('reads the defaults, and validates changes', async () => {
      const { eventId } = await client.createEventWithSchedule();
      expect((await client.queueControls(eventId)).body).toEqual({
        eventId,
        paused: false,
        maxActive: 3,
        admitPerSecond: 1000,
        salesStartAt: null,
        opened: true,
        soldOut: false,
        seatsLeft: 50,
        seatsAvailable: 50,
        waiting: 0,
        active: 0,
        admittedTotal: 0,
        admissionsPerSecond: 0,
      });
      for (const body of [{}, { maxActive: 0 }, { maxActive: 100_001 }, { admitPerSecond: -1 }, { paused: 'yes' }, { maxActive: 2.5 }, { other: 1 }]) {
        expectProblem(await client.request('PATCH', `/admin/events/${eventId}/queue`, { admin: true, body }), 400, 'VALIDATION_FAILED');
      }
      expectProblem(await client.patchQueue(randomUUID(), { paused: true }), 404, 'NOT_FOUND');
      expectProblem(await client.request('GET', `/admin/events/${eventId}/queue`), 403, 'FORBIDDEN');
    });

    it('pauses admission (waiters see paused: true), resumes it, and applies a new capacity', async () => {
      const { eventId } = await client.createEventWithSchedule();
      expect((await client.patchQueue(eventId, { paused: true })).body).toMatchObject({ paused: true });
      const [a, b, c] = await users(3);
      const joinA = await client.join(a!, eventId);
      expect(joinA.body).toMatchObject({ status: 'WAITING', position: 1, paused: true });
      await client.join(b!, eventId);
      await client.join(c!, eventId);
      await tick();
      expect((await client.queueControls(eventId)).body).toMatchObject({ active: 0, waiting: 3 });

      expect((await client.patchQueue(eventId, { paused: false, maxActive: 2 })).body).toMatchObject({ paused: false, maxActive: 2 });
      await tick();
      expect((await currentQueue(client, joinA.body.token)).body).toMatchObject({ status: 'ACTIVE', paused: false });
      expect((await client.queueControls(eventId)).body).toMatchObject({ active: 2, waiting: 1, admittedTotal: 2 });
    });
  });

  describe('a sold-out line', () => {
    /** Sells every seat of the schedule: buyers of four seats each, one payment apiece. */
    async function sellOut(eventId: string, scheduleId: string, seats: number[]) {
      for (let i = 0; i < seats.length; i += 4) {
        const user = await client.createUser('fan');
        await client.charge(user, 1_000_000);
        const token = await client.admittedToken(user, eventId);
        const holds = [];
        for (const seat of seats.slice(i, i + 4)) holds.push((await client.hold(user, token, scheduleId, seat)).body.id);
        expect((await client.payAll(user, token, holds)).status).toBe(201);
      }
    }

    it('tells waiters SOLD_OUT, refuses joins with 409, and reopens when a refund brings a seat back', async () => {
      await client.patchQueue((await client.createEvent()).id, { maxActive: 100 }); // another event's controls stay its own
      // Three days ahead: far from the refund window whatever the tests before moved the clock to.
      const eventId = (await client.createEvent()).id;
      const scheduleId = await client.addSchedule(eventId, 2);
      await client.patchQueue(eventId, { maxActive: 10_000 });
      await sellOut(eventId, scheduleId, Array.from({ length: 48 }, (_, i) => i + 1));

      // Two seats left, both held: waiters are told so, and capacity shrinks to seats × QUEUE_ACTIVE_PER_SEAT.
      const holder = await client.createUser('holder');
      await client.charge(holder, 1_000_000);
      const holderToken = await client.admittedToken(holder, eventId);
      const last = [(await client.hold(holder, holderToken, scheduleId, 49)).body.id, (await client.hold(holder, holderToken, scheduleId, 50)).body.id];
      // Every instance learns the inventory on its admission tick; the cap holds from the next one on.
      await tick();
      const crowd = await users(6);
      const waiters = [];
      for (const user of crowd) waiters.push((await client.join(user, eventId)).body.token as string);
      await tick();
      const controls = (await client.queueControls(eventId)).body;
      expect(controls).toMatchObject({ seatsLeft: 2, seatsAvailable: 0, soldOut: false });
      expect(controls.active).toBeLessThanOrEqual(2 * 2);
      const waiting = (await currentQueue(client, waiters[5])).body;
      expect(waiting).toMatchObject({ status: 'WAITING', seatsLeft: 2 });

      expect((await client.payAll(holder, holderToken, last)).status).toBe(201);
      await tick();
      expect((await client.queueControls(eventId)).body).toMatchObject({ soldOut: true, seatsLeft: 0, waiting: 0 });
      expect((await currentQueue(client, waiters[5])).body).toMatchObject({ status: 'SOLD_OUT', position: null });
      expectProblem(await client.join(await client.createUser('late'), eventId), 409, 'EVENT_SOLD_OUT');

      expect((await client.cancel(holder, last[0]!)).status).toBe(200);
      await tick();
      expect((await client.queueControls(eventId)).body).toMatchObject({ soldOut: false, seatsLeft: 1 });
      expect((await client.join(await client.createUser('second chance'), eventId)).status).toBe(201);
    });
  });
});

export type { ApiUser };
