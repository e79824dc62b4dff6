import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiUser, type Reply } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { readStream } from '../support/sse.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { currentQueue, getReservation, holdOk, seatStatus, tamper } from './helpers.js';

const MAX_ACTIVE = 2;
const ACTIVE_TTL_MS = 60_000;
const TOKEN_TTL_MS = 120_000;
const WAITING_GRACE_MS = 45_000;

describe.each(backends)('waiting room (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'queue', {
      QUEUE_MAX_ACTIVE: String(MAX_ACTIVE),
      QUEUE_ACTIVE_TTL_SECONDS: String(ACTIVE_TTL_MS / 1000),
      QUEUE_TOKEN_TTL_SECONDS: String(TOKEN_TTL_MS / 1000),
      QUEUE_WAITING_GRACE_SECONDS: String(WAITING_GRACE_MS / 1000),
    });
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  /** Two active buyers (A, B) and one waiting (C) on a fresh event; A is also admitted to a second event. */
  async function scene() {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const other = await client.createEventWithSchedule();
    const [a, b, c] = [await client.createUser('a'), await client.createUser('b'), await client.createUser('c')];
    const tokenA = await client.admittedToken(a, eventId);
    const tokenB = await client.admittedToken(b, eventId);
    const waitingC = await client.join(c, eventId);
    expect(waitingC.body.status).toBe('WAITING');
    const otherEventTokenA = await client.admittedToken(a, other.eventId);
    await client.charge(a, 100_000);
    const held = await holdOk(client, a, tokenA, scheduleId, 1);
    return { eventId, scheduleId, a, b, c, tokenA, tokenB, tokenC: waitingC.body.token as string, otherEventTokenA, reservationId: held.id };
  }

  /** The three guarded endpoints called with one queue token (or none) as the given user. */
  async function guarded(s: Awaited<ReturnType<typeof scene>>, user: ApiUser, queueToken: string | undefined, seatNumber = 2) {
    return {
      seats: await client.request('GET', `/schedules/${s.scheduleId}/seats`, { queueToken }),
      hold: await client.request('POST', '/reservations', { user, queueToken, body: { scheduleId: s.scheduleId, seatNumber } }),
      pay: await client.request('POST', '/payments', { user, queueToken, body: { reservationId: s.reservationId } }),
    };
  }

  function expectAll(replies: Record<string, Reply>, status: number, code: string) {
    for (const reply of Object.values(replies)) expectProblem(reply, status, code);
  }

  /** Nothing a refused request touched has changed: seat 2 free, A's hold still pending and unpaid. */
  async function expectNothingChanged(s: Awaited<ReturnType<typeof scene>>) {
    expect(await seatStatus(client, s.tokenB, s.scheduleId, 2)).toBe('AVAILABLE');
    expect((await getReservation(client, s.a, s.reservationId)).body.status).toBe('PENDING');
    expect((await client.balance(s.a)).body.balance).toBe(100_000);
  }

  describe('POST /queue/tokens', () => {
    it('admits the first user at once and returns the same token when asked again', async () => {
      const { eventId } = await client.createEventWithSchedule();
      const user = await client.createUser();
      const now = t.clock.now().getTime();
      const first = await client.join(user, eventId);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({
        token: expect.stringMatching(/^[\w-]+\.[\w-]+$/),
        userId: user.id,
        eventId,
        joinNumber: 1,
        position: 0,
        status: 'ACTIVE',
        issuedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + TOKEN_TTL_MS).toISOString(),
        etaSeconds: 0,
        opensAt: null,
        paused: false,
        seatsLeft: null,
      });
      t.clock.advance(1_000);
      const again = await client.join(user, eventId);
      expect(again.status).toBe(201);
      expect(again.body.token).toBe(first.body.token);
      expect(again.body.issuedAt).toBe(first.body.issuedAt);
    });

    it('refuses an unknown event (404), a malformed id (400) and a missing bearer (401)', async () => {
      const user = await client.createUser();
      expectProblem(await client.join(user, randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await client.join(user, 'not-a-uuid'), 400, 'VALIDATION_FAILED');
      expectProblem(await client.request('POST', '/queue/tokens', { user, body: {} }), 400, 'VALIDATION_FAILED');
      const { eventId } = await client.createEventWithSchedule();
      expectProblem(await client.request('POST', '/queue/tokens', { body: { eventId } }), 401, 'UNAUTHORIZED');
    });

    it('makes users beyond QUEUE_MAX_ACTIVE wait in line, in join order', async () => {
      const { eventId } = await client.createEventWithSchedule();
      const users = [];
      for (const name of ['a', 'b', 'c', 'd']) users.push(await client.createUser(name));
      const joined = [];
      for (const user of users) joined.push(await client.join(user, eventId));
      expect(joined.map((reply) => [reply.status, reply.body.status, reply.body.position])).toEqual([
        [201, 'ACTIVE', 0],
        [201, 'ACTIVE', 0],
        [201, 'WAITING', 1],
        [201, 'WAITING', 2],
      ]);
      expect(joined[3]!.body.etaSeconds).toBeGreaterThanOrEqual(1);
      const current = await currentQueue(client, joined[3]!.body.token);
      expect(current.status).toBe(200);
      expect(current.body).toMatchObject({ status: 'WAITING', position: 2, userId: users[3]!.id, eventId });
      const rejoin = await client.join(users[2]!, eventId);
      expect(rejoin.body).toMatchObject({ token: joined[2]!.body.token, status: 'WAITING', position: 1 });
    });
  });

  describe('admission as slots free up', () => {
    it('admits waiting users in FIFO order when an active user pays, then when one idles out', async () => {
      const s = await scene();
      const d = await client.createUser('d');
      const tokenD = (await client.join(d, s.eventId)).body.token as string;
      expect((await currentQueue(client, s.tokenC)).body).toMatchObject({ status: 'WAITING', position: 1 });
      expect((await currentQueue(client, tokenD)).body).toMatchObject({ status: 'WAITING', position: 2 });

      // A buys: the token ends and the slot goes to the head of the line (C), not to D.
      expect((await client.pay(s.a, s.tokenA, s.reservationId)).status).toBe(201);
      expectProblem(await currentQueue(client, s.tokenA), 401, 'QUEUE_TOKEN_EXPIRED');
      await t.services.queue.admitAll();
      expect((await currentQueue(client, s.tokenC)).body).toMatchObject({ status: 'ACTIVE', position: 0 });
      expect((await currentQueue(client, tokenD)).body).toMatchObject({ status: 'WAITING', position: 1 });
      expect((await client.seats(s.tokenC, s.scheduleId)).status).toBe(200);

      // B goes quiet; C and D keep polling. Once B's idle deadline passes, D gets B's slot.
      t.clock.advance(ACTIVE_TTL_MS / 2);
      await currentQueue(client, s.tokenC);
      await currentQueue(client, tokenD);
      t.clock.advance(ACTIVE_TTL_MS / 2 + 1_000);
      expectProblem(await client.seats(s.tokenB, s.scheduleId), 401, 'QUEUE_TOKEN_EXPIRED');
      await t.services.queue.admitAll();
      expect((await currentQueue(client, tokenD)).body).toMatchObject({ status: 'ACTIVE', position: 0 });
      expect((await currentQueue(client, s.tokenC)).body).toMatchObject({ status: 'ACTIVE' });
      expectProblem(await currentQueue(client, s.tokenB), 401, 'QUEUE_TOKEN_EXPIRED');
    });

    it('drops a waiting user who stops polling after the grace period; the line moves up', async () => {
      const s = await scene();
      const d = await client.createUser('d');
      const tokenD = (await client.join(d, s.eventId)).body.token as string;
      t.clock.advance(WAITING_GRACE_MS - 15_000);
      for (const token of [s.tokenA, s.tokenB]) await client.seats(token, s.scheduleId);
      expect((await currentQueue(client, tokenD)).body).toMatchObject({ status: 'WAITING', position: 2 });
      t.clock.advance(15_001);
      await t.services.queue.admitAll();
      expectProblem(await currentQueue(client, s.tokenC), 401, 'QUEUE_TOKEN_EXPIRED');
      expect((await currentQueue(client, tokenD)).body).toMatchObject({ status: 'WAITING', position: 1 });
      // Coming back means joining again, at the end of the line.
      const back = await client.join(s.c, s.eventId);
      expect(back.body).toMatchObject({ status: 'WAITING', position: 2 });
      expect(back.body.token).not.toBe(s.tokenC);
    });
  });

  describe('GET /queue/tokens/current', () => {
    it('accepts the token as a ?token= query parameter as well as the header', async () => {
      const s = await scene();
      const reply = await client.request('GET', `/queue/tokens/current?token=${encodeURIComponent(s.tokenC)}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ userId: s.c.id, status: 'WAITING', position: 1 });
    });

    it('refuses a missing, garbage or tampered token (401 QUEUE_TOKEN_INVALID)', async () => {
      const s = await scene();
      expectProblem(await currentQueue(client), 401, 'QUEUE_TOKEN_INVALID');
      expectProblem(await currentQueue(client, 'garbage'), 401, 'QUEUE_TOKEN_INVALID');
      expectProblem(await currentQueue(client, tamper(s.tokenC, 'payload')), 401, 'QUEUE_TOKEN_INVALID');
      expectProblem(await currentQueue(client, tamper(s.tokenC, 'signature')), 401, 'QUEUE_TOKEN_INVALID');
      expectProblem(await currentQueue(client, s.a.accessToken), 401, 'QUEUE_TOKEN_INVALID');
    });
  });

  describe('DELETE /queue/tokens/current', () => {
    const leave = (user: ApiUser | undefined, queueToken: string) =>
      client.request('DELETE', '/queue/tokens/current', user ? { user, queueToken } : { queueToken });

    it('gives the place back: the token expires and the next in line is admitted', async () => {
      const s = await scene();
      expect((await leave(s.b, s.tokenB)).status).toBe(204);
      expectProblem(await currentQueue(client, s.tokenB), 401, 'QUEUE_TOKEN_EXPIRED');
      await t.services.queue.admitAll();
      expect((await currentQueue(client, s.tokenC)).body).toMatchObject({ status: 'ACTIVE', position: 0 });
      expectProblem(await leave(s.b, 'garbage'), 401, 'QUEUE_TOKEN_INVALID');
    });

    it('refuses the queue token alone (401 UNAUTHORIZED): it travels in stream URLs', async () => {
      const s = await scene();
      expectProblem(await leave(undefined, s.tokenB), 401, 'UNAUTHORIZED');
      expect((await currentQueue(client, s.tokenB)).body).toMatchObject({ status: 'ACTIVE' });
    });

    it("refuses another user's queue token with 403 QUEUE_TOKEN_INVALID and leaves the place alone", async () => {
      const s = await scene();
      expectProblem(await leave(s.a, s.tokenC), 403, 'QUEUE_TOKEN_INVALID');
      expect((await currentQueue(client, s.tokenC)).body).toMatchObject({ status: 'WAITING', position: 1 });
    });
  });

  describe('GET /queue/tokens/current/stream', () => {
    it('pushes the view when it changes, and ends with EXPIRED once the purchase used the token', async () => {
      const s = await scene();
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const url = (token: string) => `http://127.0.0.1:${port}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(token)}`;
      const streamA = readStream(url(s.tokenA), (m) => m.status === 'EXPIRED');
      const streamC = readStream(url(s.tokenC), (m) => m.status === 'ACTIVE');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await client.pay(s.a, s.tokenA, s.reservationId)).status).toBe(201);
      await t.services.queue.admitAll();
      expect((await streamA).map((m) => m.status)).toEqual(['ACTIVE', 'EXPIRED']);
      const messagesC = await streamC;
      expect(messagesC[0]).toMatchObject({ status: 'WAITING', position: 1, userId: s.c.id });
      expect(messagesC.at(-1)).toMatchObject({ status: 'ACTIVE', position: 0, token: s.tokenC });
    });

    it('refuses a missing, tampered or ended token with problem+json before streaming', async () => {
      const s = await scene();
      const stream = (query: string) => client.request('GET', `/queue/tokens/current/stream${query}`);
      expectProblem(await stream(''), 401, 'QUEUE_TOKEN_INVALID');
      expectProblem(await stream(`?token=${encodeURIComponent(tamper(s.tokenC, 'signature'))}`), 401, 'QUEUE_TOKEN_INVALID');
      expect((await client.pay(s.a, s.tokenA, s.reservationId)).status).toBe(201);
      expectProblem(await stream(`?token=${encodeURIComponent(s.tokenA)}`), 401, 'QUEUE_TOKEN_EXPIRED');
    });
  });

  describe('guards on GET /schedules/{id}/seats, POST /reservations, POST /payments', () => {
    it('lets an admitted token through', async () => {
      const s = await scene();
      const replies = await guarded(s, s.a, s.tokenA);
      expect([replies.seats.status, replies.hold.status, replies.pay.status]).toEqual([200, 201, 201]);
    });

    it('refuses a missing token with 401 QUEUE_TOKEN_INVALID', async () => {
      const s = await scene();
      expectAll(await guarded(s, s.a, undefined), 401, 'QUEUE_TOKEN_INVALID');
      await expectNothingChanged(s);
    });

    it.each(['garbage', 'payload', 'signature'] as const)('refuses a %s token with 401 QUEUE_TOKEN_INVALID', async (kind) => {
      const s = await scene();
      const token = kind === 'garbage' ? 'eyJub3QiOiJ2YWxpZCJ9.c2lnbmF0dXJl' : tamper(s.tokenA, kind);
      expectAll(await guarded(s, s.a, token), 401, 'QUEUE_TOKEN_INVALID');
      await expectNothingChanged(s);
    });

    it('refuses a token past QUEUE_TOKEN_TTL_SECONDS with 401 QUEUE_TOKEN_EXPIRED, even while its slot is busy', async () => {
      const s = await scene();
      for (let elapsed = 0; elapsed < TOKEN_TTL_MS; elapsed += ACTIVE_TTL_MS / 2) {
        t.clock.advance(ACTIVE_TTL_MS / 2);
        await client.seats(s.tokenA, s.scheduleId);
        await client.seats(s.tokenB, s.scheduleId);
      }
      t.clock.advance(1_000);
      expectAll(await guarded(s, s.a, s.tokenA), 401, 'QUEUE_TOKEN_EXPIRED');
      expectProblem(await currentQueue(client, s.tokenA), 401, 'QUEUE_TOKEN_EXPIRED');
    });

    it('refuses a token idle past QUEUE_ACTIVE_TTL_SECONDS with 401 QUEUE_TOKEN_EXPIRED', async () => {
      const s = await scene();
      t.clock.advance(ACTIVE_TTL_MS);
      expectAll(await guarded(s, s.a, s.tokenA), 401, 'QUEUE_TOKEN_EXPIRED');
    });

    it('refuses the token of a completed purchase with 401 QUEUE_TOKEN_EXPIRED', async () => {
      const s = await scene();
      expect((await client.pay(s.a, s.tokenA, s.reservationId)).status).toBe(201);
      const replies = await guarded(s, s.a, s.tokenA);
      expectAll(replies, 401, 'QUEUE_TOKEN_EXPIRED');
      expect(await seatStatus(client, s.tokenB, s.scheduleId, 2)).toBe('AVAILABLE');
    });

    it('refuses a waiting token with 403 QUEUE_NOT_ADMITTED', async () => {
      const s = await scene();
      await client.charge(s.c, 100_000);
      expectAll(await guarded(s, s.c, s.tokenC), 403, 'QUEUE_NOT_ADMITTED');
      expect(await seatStatus(client, s.tokenB, s.scheduleId, 2)).toBe('AVAILABLE');
      expect((await client.balance(s.c)).body.balance).toBe(100_000);
    });

    it("refuses another user's token used with your bearer with 403 QUEUE_TOKEN_INVALID", async () => {
      const s = await scene();
      // The seat map needs no identity beyond the token, so only the two bearer endpoints can tell.
      const replies = await guarded(s, s.a, s.tokenB);
      expect(replies.seats.status).toBe(200);
      expectProblem(replies.hold, 403, 'QUEUE_TOKEN_INVALID');
      expectProblem(replies.pay, 403, 'QUEUE_TOKEN_INVALID');
      await expectNothingChanged(s);
    });

    it('refuses a token for another event with 403 QUEUE_TOKEN_INVALID', async () => {
      const s = await scene();
      expectAll(await guarded(s, s.a, s.otherEventTokenA), 403, 'QUEUE_TOKEN_INVALID');
      await expectNothingChanged(s);
    });
  });
});
