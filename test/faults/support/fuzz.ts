import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiUser } from '../../../tools/http/api-client.js';
import { expectInvariants } from '../../support/expect.js';
import { baseEnv, openDatabase, startFaultApp, type FaultApp } from './service.js';

/**
 * What the fuzz files share: hostile values, and a target (the service with a victim and an attacker who
 * both hold a seat) that counts every request sent and checks each answer is a clean 4xx problem.
 */

export interface HostileRequest {
  label: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  /** A JS value sent as JSON, or a raw string body. */
  body?: unknown;
  raw?: string;
  /** Statuses this kind of request may get; any 4xx when left out. */
  expect?: number[];
}

/** Strings a hostile client would try where an id or a name goes. */
export const nastyStrings = fc.oneof(
  fc.constantFrom(
    "' OR '1'='1",
    "'; DROP TABLE seats; --",
    '1; DELETE FROM wallets',
    '" OR ""="',
    '$1',
    '\\x00',
    '\u0000',
    '%00',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '{{7*7}}',
    'null',
    'undefined',
    'NaN',
    '-1',
    '0',
    '1e309',
    '00000000-0000-0000-0000-00000000000g',
    '00000000-0000-0000-0000-0000000000000',
    '00000000_0000_0000_0000_000000000000',
    '{00000000-0000-0000-0000-000000000000}',
    ' '.repeat(40),
    'x'.repeat(5_000),
    '😀'.repeat(100),
    '\u202e\u0000\uffff',
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uuid().map((id) => `${id}' OR 1=1 --`),
  fc.uuid().map((id) => id.toUpperCase().replace(/-/g, '')),
);

/** The same, restricted to what can travel in an HTTP header. */
export const headerSafe = nastyStrings.filter((s) => /^[\x20-\x7e]*$/.test(s));

/** Values of the wrong kind where an integer goes; none of them is something Ajv would coerce to a number. */
export const notAnInteger = fc.oneof(
  fc.double({ noInteger: true }).filter((x) => Number.isFinite(x)),
  fc.constantFrom(1.5, 0.1, -0.5, 49.999, 1e308, -1e308, Number.MAX_VALUE, 2 ** 53 + 2, -(2 ** 63), 2 ** 64),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === '' || Number.isNaN(Number(s))),
  fc.constant({}),
  fc.constant({ valueOf: 1 }),
  fc.array(fc.integer(), { minLength: 2, maxLength: 3 }),
  fc.constant([]),
);

/** Filled in by beforeAll; the arbitraries read them lazily, once the requests are generated. */
export interface FuzzContext {
  eventId: string;
  otherEventId: string;
  scheduleId: string;
  victimToken: string;
  attackerToken: string;
  attackerOtherEventToken: string;
  victimReservation: string;
  attackerReservation: string;
}

/** Call inside a describe: starts the service for `scope` before its tests and closes it after them. */
export function fuzzTarget(scope: string) {
  let f: FaultApp;
  let db: pg.Pool;
  const victim = {} as ApiUser;
  const attacker = {} as ApiUser;
  const ctx = {} as FuzzContext;
  let sent = 0;
  const served: Record<string, number> = {};

  beforeAll(async () => {
    f = await startFaultApp(baseEnv(scope));
    db = openDatabase();
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const other = await f.http.createEventWithSchedule();
    Object.assign(victim, await f.http.createUser('victim'));
    Object.assign(attacker, await f.http.createUser('attacker'));
    expect((await f.http.charge(victim, 50_000)).status).toBe(200);
    const victimToken = await f.http.admittedToken(victim, eventId);
    const attackerToken = await f.http.admittedToken(attacker, eventId);
    const attackerOtherEventToken = await f.http.admittedToken(attacker, other.eventId);
    const victimHold = await f.http.hold(victim, victimToken, scheduleId, 1);
    const attackerHold = await f.http.hold(attacker, attackerToken, scheduleId, 2);
    expect([victimHold.status, attackerHold.status]).toEqual([201, 201]);
    Object.assign(ctx, {
      eventId,
      otherEventId: other.eventId,
      scheduleId,
      victimToken,
      attackerToken,
      attackerOtherEventToken,
      victimReservation: victimHold.body.id,
      attackerReservation: attackerHold.body.id,
    });
  });
  afterAll(async () => {
    await f?.close();
    await db?.end();
  });

  /** Sends one request through the whole HTTP pipeline and checks the answer is a clean 4xx problem. */
  async function send(request: HostileRequest): Promise<void> {
    const headers: Record<string, string> = { ...request.headers };
    let payload: string | undefined;
    if (request.raw !== undefined) payload = request.raw;
    else if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await f.app.inject({ method: request.method, url: request.url, headers, ...(payload === undefined ? {} : { payload }) });
    sent++;
    served[response.statusCode] = (served[response.statusCode] ?? 0) + 1;
    const summary = `${request.label}: ${request.method} ${request.url.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)} ${(payload ?? '').slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
    expect(response.statusCode, summary).toBeGreaterThanOrEqual(400);
    expect(response.statusCode, summary).toBeLessThan(500);
    if (request.expect) expect(request.expect, summary).toContain(response.statusCode);
    expect(String(response.headers['content-type']), summary).toMatch(/^application\/problem\+json/);
    const body = response.json();
    expect(body, summary).toEqual({
      type: expect.stringMatching(/^urn:ticketing:problem:[a-z-]+$/),
      title: expect.any(String),
      status: response.statusCode,
      code: expect.stringMatching(/^[A-Z_]+$/),
      detail: expect.any(String),
      instance: expect.stringMatching(/^\//),
    });
    expect(response.body, summary).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|SELECT |INSERT |UPDATE /);
  }

  const property = (name: string, arbitrary: fc.Arbitrary<HostileRequest>, numRuns: number) =>
    it(`${name} (${numRuns} requests)`, async () => {
      await fc.assert(fc.asyncProperty(arbitrary, (request) => send(request)), { numRuns, endOnFailure: true });
    });

  const bearer = (user: ApiUser) => ({ authorization: `Bearer ${user.accessToken}` });

  /** The aftermath of every request sent so far: at least `minimum` of them, no 5xx, victims untouched, invariants hold. */
  async function expectAftermath(minimum: number): Promise<void> {
    expect(sent, JSON.stringify(served)).toBeGreaterThanOrEqual(minimum);
    expect(Object.keys(served).filter((status) => Number(status) >= 500)).toEqual([]);

    const { rows } = await db.query<{ balance: number; reservation: string; seats: number }>(
      `SELECT (SELECT balance::int FROM wallets WHERE user_id = $1) AS balance,
              (SELECT status FROM reservations WHERE id = $2 AND user_id = $1) AS reservation,
              (SELECT count(*)::int FROM seats WHERE schedule_id = $3) AS seats`,
      [victim.id, ctx.victimReservation, ctx.scheduleId],
    );
    expect(rows[0]).toEqual({ balance: 50_000, reservation: 'PENDING', seats: 50 });
    const attackerState = await db.query<{ balance: number; reservations: number; payments: number }>(
      `SELECT (SELECT balance::int FROM wallets WHERE user_id = $1) AS balance,
              (SELECT count(*)::int FROM reservations WHERE user_id = $1) AS reservations,
              (SELECT count(*)::int FROM payments WHERE user_id = $1) AS payments`,
      [attacker.id],
    );
    expect(attackerState.rows[0]).toEqual({ balance: 0, reservations: 1, payments: 0 });
    await expectInvariants(ctx.eventId);
    await expectInvariants(ctx.otherEventId);
  }

  return {
    ctx,
    victim,
    attacker,
    get f() {
      return f;
    },
    get db() {
      return db;
    },
    send,
    property,
    bearer,
    expectAftermath,
  };
}
