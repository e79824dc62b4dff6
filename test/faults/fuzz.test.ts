import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/shared/signed-token.js';
import { MAX_CHARGE_AMOUNT } from '../../src/modules/wallet/wallet.service.js';
import { ADMIN_KEY, baseEnv, expectInvariants, openDatabase, startFaultApp, TOKEN_SECRET, type FaultApp, type User } from './support/service.js';

/**
 * Property tests over the request schemas: well over a thousand malformed or hostile requests, each of
 * which must be answered with a 4xx problem+json (never a 5xx, never a stack trace), after which the
 * victims' money and holds are untouched and the invariant checker still passes.
 */

interface HostileRequest {
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

const HOUR = 3_600_000;
const signer = new TokenSigner(TOKEN_SECRET);
const otherSigner = new TokenSigner('another-secret-another-secret-another-1');
const now = () => Date.now();

/** Changes one character of a token so its MAC no longer matches (payload or signature). */
function tamper(token: string, at: number): string {
  const dot = token.indexOf('.');
  const index = at % 2 === 0 ? Math.max(1, Math.floor(dot / 2)) : dot + 5;
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
}

/** Strings a hostile client would try where an id or a name goes. */
const nastyStrings = fc.oneof(
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
const headerSafe = nastyStrings.filter((s) => /^[\x20-\x7e]*$/.test(s));

/**
 * The same, restricted to what encodeURIComponent accepts (no lone surrogates) and to the router's
 * 100-character parameter limit (longer ids have their own test below).
 */
const pathSafe = nastyStrings.filter((s) => {
  try {
    const encoded = encodeURIComponent(s);
    return s.length > 0 && encoded.length <= 100 && decodeURIComponent(encoded).length <= 100;
  } catch {
    return false;
  }
});

/** Values of the wrong kind where an integer goes; none of them is something Ajv would coerce to a number. */
const notAnInteger = fc.oneof(
  fc.double({ noInteger: true }).filter((x) => Number.isFinite(x)),
  fc.constantFrom(1.5, 0.1, -0.5, 49.999, 1e308, -1e308, Number.MAX_VALUE, 2 ** 53 + 2, -(2 ** 63), 2 ** 64),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === '' || Number.isNaN(Number(s))),
  fc.constant({}),
  fc.constant({ valueOf: 1 }),
  fc.array(fc.integer(), { minLength: 2, maxLength: 3 }),
  fc.constant([]),
);

describe('fuzzing the request schemas with hostile input (fast-check)', () => {
  let f: FaultApp;
  let db: pg.Pool;
  let victim: User;
  let attacker: User;
  let ctx: {
    eventId: string;
    otherEventId: string;
    scheduleId: string;
    victimToken: string;
    attackerToken: string;
    attackerOtherEventToken: string;
    victimReservation: string;
    attackerReservation: string;
  };
  let sent = 0;
  const served: Record<string, number> = {};

  beforeAll(async () => {
    f = await startFaultApp(baseEnv('fuzz'));
    db = openDatabase();
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const other = await f.http.createEventWithSchedule();
    victim = await f.http.createUser('victim');
    attacker = await f.http.createUser('attacker');
    expect((await f.http.charge(victim, 50_000)).status).toBe(200);
    const victimToken = await f.http.admittedToken(victim, eventId);
    const attackerToken = await f.http.admittedToken(attacker, eventId);
    const attackerOtherEventToken = await f.http.admittedToken(attacker, other.eventId);
    const victimHold = await f.http.hold(victim, victimToken, scheduleId, 1);
    const attackerHold = await f.http.hold(attacker, attackerToken, scheduleId, 2);
    expect([victimHold.status, attackerHold.status]).toEqual([201, 201]);
    ctx = {
      eventId,
      otherEventId: other.eventId,
      scheduleId,
      victimToken,
      attackerToken,
      attackerOtherEventToken,
      victimReservation: victimHold.body.id,
      attackerReservation: attackerHold.body.id,
    };
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

  // ---- identities -------------------------------------------------------------------------------

  /** Authorization headers that must not authenticate anyone. */
  const badAuthorization = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Token abc', 'bearer'),
    headerSafe.map((s) => `Bearer ${s}`),
    fc.nat().map((n) => `Bearer ${tamper(attacker.accessToken, n)}`),
    fc.constant(null).map(() => `Bearer ${signer.sign({ typ: 'access', sub: victim.id, iat: now() - 48 * HOUR, exp: now() - HOUR })}`),
    fc.constant(null).map(() => `Bearer ${otherSigner.sign({ typ: 'access', sub: victim.id, iat: now(), exp: now() + HOUR })}`),
    fc.constant(null).map(() => `Bearer ${ctx.victimToken}`),
    fc.constant(null).map(() => `Bearer ${Buffer.from(JSON.stringify({ typ: 'access', sub: victim.id, iat: now(), exp: now() + HOUR })).toString('base64url')}.`),
    fc.constant(null).map(() => `Bearer ${signer.sign({ typ: 'access', sub: victim.id, iat: now(), exp: 'never' } as never)}`),
    fc.constant(null).map(() => `Bearer ${attacker.accessToken}x`),
    fc.constant(null).map(() => `Bearer ${'A'.repeat(3_000)}.${'B'.repeat(43)}`),
  );

  /** Queue tokens that must not let the attacker buy in the event. */
  const badQueueToken = fc.oneof(
    fc.constant({ token: undefined as string | undefined, statuses: [401] }),
    headerSafe.filter((s) => s.trim().length > 0).map((token) => ({ token, statuses: [401] })),
    fc.nat().map((n) => ({ token: tamper(ctx.attackerToken, n), statuses: [401] })),
    fc.constant(null).map(() => ({ token: attacker.accessToken, statuses: [401] })),
    fc.constant(null).map(() => ({
      token: signer.sign({ typ: 'queue', tid: randomUUID(), uid: attacker.id, eid: ctx.eventId, iat: now() - 5 * HOUR, exp: now() - HOUR }),
      statuses: [401],
    })),
    fc.constant(null).map(() => ({
      token: otherSigner.sign({ typ: 'queue', tid: randomUUID(), uid: attacker.id, eid: ctx.eventId, iat: now(), exp: now() + HOUR }),
      statuses: [401],
    })),
    // Genuine token, never issued by the waiting room (no place in line): expired.
    fc.constant(null).map(() => ({
      token: signer.sign({ typ: 'queue', tid: randomUUID(), uid: attacker.id, eid: ctx.eventId, iat: now(), exp: now() + HOUR }),
      statuses: [401],
    })),
    // Someone else's token, or a token for another event.
    fc.constant(null).map(() => ({ token: ctx.victimToken, statuses: [403] })),
    fc.constant(null).map(() => ({ token: ctx.attackerOtherEventToken, statuses: [403] })),
  );

  const bearer = (user: User) => ({ authorization: `Bearer ${user.accessToken}` });

  // ---- properties ------------------------------------------------------------------------------

  property(
    'no valid access token: every protected endpoint answers 401',
    fc.tuple(
      badAuthorization,
      fc.constantFrom(
        (): Omit<HostileRequest, 'headers' | 'label'> => ({ method: 'GET', url: '/api/v1/users/me' }),
        () => ({ method: 'GET', url: '/api/v1/users/me/balance' }),
        () => ({ method: 'GET', url: '/api/v1/users/me/balance/history' }),
        () => ({ method: 'POST', url: '/api/v1/users/me/balance/charges', body: { amount: 1_000 } }),
        () => ({ method: 'GET', url: '/api/v1/users/me/reservations' }),
        () => ({ method: 'GET', url: '/api/v1/users/me/payments' }),
        () => ({ method: 'GET', url: `/api/v1/reservations/${ctx.victimReservation}` }),
        () => ({ method: 'DELETE', url: `/api/v1/reservations/${ctx.victimReservation}` }),
        () => ({ method: 'POST', url: '/api/v1/queue/tokens', body: { eventId: ctx.eventId } }),
        () => ({ method: 'POST', url: '/api/v1/reservations', body: { scheduleId: ctx.scheduleId, seatNumber: 20 }, queue: ctx.victimToken }),
        () => ({ method: 'POST', url: '/api/v1/payments', body: { reservationId: ctx.victimReservation }, queue: ctx.victimToken }),
      ),
    ).map(([authorization, make]) => {
      const request = make() as Omit<HostileRequest, 'headers' | 'label'> & { queue?: string };
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (request.queue) headers['x-queue-token'] = request.queue;
      return { label: 'bad bearer', method: request.method, url: request.url, body: request.body, headers, expect: [401] };
    }),
    250,
  );

  property(
    'a genuine user with a forged, tampered, expired, foreign or misplaced queue token cannot see seats, hold or pay',
    fc.tuple(badQueueToken, fc.constantFrom('seats', 'hold', 'pay')).map(([{ token, statuses }, what]): HostileRequest => {
      const headers: Record<string, string> = { ...bearer(attacker) };
      if (token !== undefined) headers['x-queue-token'] = token;
      const expectStatuses = [...statuses];
      // The seat map needs no identity: a victim's genuine token opens it (not a 4xx), so it is left out for that case.
      if (what === 'seats') {
        return { label: 'bad queue token (seats)', method: 'GET', url: `/api/v1/schedules/${ctx.scheduleId}/seats`, headers: token === ctx.victimToken ? { 'x-queue-token': tamper(token, 1) } : headers, expect: token === ctx.victimToken ? [401] : expectStatuses };
      }
      if (what === 'hold') {
        return { label: 'bad queue token (hold)', method: 'POST', url: '/api/v1/reservations', headers, body: { scheduleId: ctx.scheduleId, seatNumber: 30 }, expect: expectStatuses };
      }
      return { label: 'bad queue token (pay)', method: 'POST', url: '/api/v1/payments', headers, body: { reservationId: ctx.attackerReservation }, expect: expectStatuses };
    }),
    200,
  );

  property(
    'hold: seat 0, 51, negative, fractional, huge or not a number; a schedule id that is not a UUID or does not exist; extra or missing fields',
    fc
      .oneof(
        fc.record({ scheduleId: fc.constant('S'), seatNumber: fc.oneof(fc.constantFrom(0, 51, -1, 52, 100, 2 ** 31, 2 ** 53 - 1, -(2 ** 31)), fc.integer({ max: 0 }), fc.integer({ min: 51 }), notAnInteger) }),
        fc.record({ scheduleId: nastyStrings, seatNumber: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ scheduleId: fc.uuid(), seatNumber: fc.integer({ min: 1, max: 50 }) }).map((body) => ({ ...body, missing: true })),
        fc.record({ scheduleId: fc.constant('S'), seatNumber: fc.integer({ min: 1, max: 50 }), extra: fc.oneof(nastyStrings, fc.jsonValue()) }),
        fc.constantFrom({ scheduleId: 'S' }, { seatNumber: 20 }, {}, [], 'S', 42, null, [{ scheduleId: 'S', seatNumber: 20 }]),
      )
      .map((body): HostileRequest => {
        const resolved = JSON.parse(JSON.stringify(body ?? null).replaceAll('"S"', JSON.stringify(ctx.scheduleId)));
        if (resolved && typeof resolved === 'object' && 'missing' in resolved) delete resolved.missing;
        const unknownSchedule = resolved && typeof resolved === 'object' && !Array.isArray(resolved) && resolved.scheduleId !== ctx.scheduleId;
        return {
          label: 'hold body',
          method: 'POST',
          url: '/api/v1/reservations',
          headers: { ...bearer(attacker), 'x-queue-token': ctx.attackerToken },
          body: resolved,
          // An unknown but well-formed schedule is 404; the token's event cannot match a schedule that does not exist.
          ...(unknownSchedule ? { expect: [400, 404] } : { expect: [400] }),
        };
      }),
    250,
  );

  property(
    'charge: zero, negative, over the maximum, fractional, huge, not a number, extra fields, bad Idempotency-Key',
    fc
      .oneof(
        fc.record({ amount: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_CHARGE_AMOUNT + 1 }), fc.constantFrom(-1, 0, MAX_CHARGE_AMOUNT + 1, 2 ** 53, -(2 ** 53), 1e21), notAnInteger) }).map((body) => ({ body, key: undefined as string | undefined })),
        fc.record({ amount: fc.integer({ min: 1, max: 1_000 }), extra: fc.oneof(nastyStrings, fc.jsonValue()) }).map((body) => ({ body, key: undefined })),
        fc.constantFrom({}, [], null, 'amount=5', 5, [{ amount: 5 }]).map((body) => ({ body: body as unknown, key: undefined })),
        fc.record({ amount: fc.integer({ min: 1, max: 1_000 }) }).chain((body) =>
          fc.oneof(fc.constantFrom('x'.repeat(129), 'key with spaces', 'tab\there', 'ünïcode'), fc.string({ minLength: 127, maxLength: 400 }).map((s) => `k${s}k`)).map((key) => ({ body, key: key as string | undefined })),
        ),
      )
      .map(({ body, key }): HostileRequest => ({
        label: 'charge body',
        method: 'POST',
        url: '/api/v1/users/me/balance/charges',
        headers: { ...bearer(attacker), ...(key === undefined ? {} : { 'idempotency-key': key }) },
        body,
        expect: [400],
      })),
    250,
  );

  property(
    'pay: a reservation id that is not a UUID, does not exist, or is somebody else’s',
    fc
      .oneof(
        nastyStrings.map((reservationId) => ({ body: { reservationId } as unknown, expect: [400] })),
        fc.uuid().map((reservationId) => ({ body: { reservationId }, expect: [404] })),
        fc.constant(null).map(() => ({ body: { reservationId: ctx.victimReservation }, expect: [403] })),
        fc.constant(null).map(() => ({ body: { reservationId: ctx.attackerReservation, amount: 0 }, expect: [400] })),
        fc.constant(null).map(() => ({ body: { reservationId: ctx.attackerReservation, userId: victim.id }, expect: [400] })),
        fc.constantFrom({}, [], null, { reservationId: null }, { reservationId: [] }).map((body) => ({ body: body as unknown, expect: [400] })),
      )
      .map(({ body, expect: statuses }): HostileRequest => ({
        label: 'pay body',
        method: 'POST',
        url: '/api/v1/payments',
        headers: { ...bearer(attacker), 'x-queue-token': ctx.attackerToken },
        body,
        expect: statuses,
      })),
    150,
  );

  property(
    'path parameters: anything where an id goes, and somebody else’s reservation',
    fc
      .tuple(
        fc.oneof(pathSafe, fc.constant('VICTIM')),
        fc.constantFrom('GET /reservations/:id', 'DELETE /reservations/:id', 'GET /events/:id/schedules', 'GET /schedules/:id/seats', 'POST /admin/events/:id/schedules'),
      )
      .map(([raw, route]): HostileRequest => {
        const id = raw === 'VICTIM' ? ctx.victimReservation : encodeURIComponent(raw);
        const [method, path] = route.split(' ') as [HostileRequest['method'], string];
        const headers: Record<string, string> = { ...bearer(attacker), 'x-queue-token': ctx.attackerToken, 'x-admin-key': ADMIN_KEY };
        const body = method === 'POST' ? { startAt: '2030-01-01T10:00:00Z', endAt: '2030-01-01T12:00:00Z', prices: { VIP: 1, STANDARD: 1, STANDING: 1 } } : undefined;
        const victimsOwn = raw === 'VICTIM' && path.startsWith('/reservations');
        return { label: 'path', method, url: `/api/v1${path.replace(':id', id)}`, headers, body, expect: victimsOwn ? [403] : [400, 403, 404] };
      }),
    200,
  );

  property(
    'sign-up: user names of the wrong type, empty, blank or too long, and bodies that are not objects',
    fc
      .oneof(
        fc.record({ userName: fc.oneof(fc.constantFrom('', ' ', '\t\n', ' '.repeat(64), 'x'.repeat(65), '😀'.repeat(65)), fc.string({ minLength: 65, maxLength: 300 }), fc.constant({}), fc.array(fc.string(), { minLength: 2 }), fc.constant(null)) }),
        fc.record({ userName: fc.constant('ok'), isAdmin: fc.constant(true) }),
        fc.constantFrom({}, [], 'ada', 7, null),
      )
      .map((body): HostileRequest => ({ label: 'sign-up body', method: 'POST', url: '/api/v1/users', headers: {}, body, expect: [400] })),
    120,
  );

  property(
    'raw bodies: broken JSON, prototype pollution, wrong content types, bodies over 16 KiB',
    fc
      .tuple(
        fc.constantFrom('/api/v1/users', '/api/v1/users/me/balance/charges', '/api/v1/reservations', '/api/v1/payments', '/api/v1/queue/tokens', '/api/v1/admin/events'),
        fc.oneof(
          fc.string({ maxLength: 200 }).filter((s) => !/^\s*\{/.test(s) || s.trim() === '{').map((raw) => ({ raw, type: 'application/json', statuses: [400] })),
          fc.constantFrom('{"userName":', '{"amount": 1,}', "{'amount': 1}", '{"amount": 01}', '{"amount": NaN}', '{"amount": Infinity}', '[', '\u0000', '{"a":"\\ud800"}x').map((raw) => ({ raw, type: 'application/json', statuses: [400] })),
          fc.constantFrom('{"__proto__": {"admin": true}, "userName": "p"}', '{"constructor": {"prototype": {"admin": true}}, "amount": 5}').map((raw) => ({ raw, type: 'application/json', statuses: [400] })),
          fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream').map((type) => ({ raw: 'amount=5&userName=x', type, statuses: [415] })),
          fc.integer({ min: 16 * 1024 + 1, max: 64 * 1024 }).map((size) => ({ raw: JSON.stringify({ userName: 'x', amount: 5, pad: 'x'.repeat(size) }), type: 'application/json', statuses: [413] })),
          fc.integer({ min: 100, max: 2_000 }).map((depth) => ({ raw: `${'['.repeat(depth)}${']'.repeat(depth)}`, type: 'application/json', statuses: [400] })),
        ),
      )
      .map(([url, { raw, type, statuses }]): HostileRequest => ({
        label: 'raw body',
        method: 'POST',
        url,
        headers: { ...bearer(attacker), 'x-queue-token': ctx.attackerToken, 'x-admin-key': ADMIN_KEY, 'content-type': type },
        raw,
        // Admin requests with a valid key reach the body schema too; everything else stops at parsing.
        expect: statuses,
      })),
    200,
  );

  property(
    'admin endpoints: no key, a wrong key, or a valid key with a hostile body',
    fc
      .oneof(
        fc.oneof(fc.constant(undefined), headerSafe, fc.constant(`${ADMIN_KEY}x`), fc.constant(ADMIN_KEY.toUpperCase())).map((key) => ({
          headers: (key === undefined ? {} : { 'x-admin-key': key }) as Record<string, string>,
          body: { code: `F-${randomUUID()}`, name: 'nope' } as unknown,
          statuses: [403],
        })),
        fc
          .oneof(
            fc.record({ code: nastyStrings.filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s)), name: fc.constant('n') }),
            fc.record({ code: fc.constant('ok-code'), name: fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 400 })) }),
            fc.record({ code: fc.constant('ok-code'), name: fc.constant('n'), enabled: fc.constant(false) }),
          )
          .map((body) => ({ headers: { 'x-admin-key': ADMIN_KEY }, body: body as unknown, statuses: [400] })),
      )
      .map(({ headers, body, statuses }): HostileRequest => ({ label: 'admin', method: 'POST', url: '/api/v1/admin/events', headers, body, expect: statuses })),
    100,
  );

  property(
    'admin schedule: hostile dates and prices',
    fc
      .oneof(
        fc.record({
          startAt: fc.oneof(fc.constantFrom('yesterday', '2030-13-45T99:99:99Z', '', '0', "2030-01-01'; --"), nastyStrings),
          endAt: fc.constant('2030-01-01T12:00:00Z'),
          prices: fc.constant({ VIP: 1, STANDARD: 1, STANDING: 1 }),
        }),
        fc.record({ startAt: fc.constant('2030-01-01T12:00:00Z'), endAt: fc.constantFrom('2030-01-01T12:00:00Z', '2029-01-01T00:00:00Z'), prices: fc.constant({ VIP: 1, STANDARD: 1, STANDING: 1 }) }),
        fc.record({
          startAt: fc.constant('2030-01-01T10:00:00Z'),
          endAt: fc.constant('2030-01-01T12:00:00Z'),
          prices: fc.record({ VIP: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 10_000_001 }), notAnInteger), STANDARD: fc.constant(1), STANDING: fc.constant(1) }),
        }),
      )
      .map((body): HostileRequest => ({
        label: 'admin schedule',
        method: 'POST',
        url: `/api/v1/admin/events/${ctx.eventId}/schedules`,
        headers: { 'x-admin-key': ADMIN_KEY },
        body,
        expect: [400],
      })),
    100,
  );

  it('after all of it: more than 1,000 hostile requests, no 5xx, victims untouched, invariants hold', async () => {
    expect(sent, JSON.stringify(served)).toBeGreaterThanOrEqual(1_000);
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
  });

  it('an id longer than the router accepts is answered as problem+json like every other error', async () => {
    await send({
      label: 'long id',
      method: 'GET',
      url: `/api/v1/reservations/${'a'.repeat(101)}`,
      headers: { authorization: `Bearer ${attacker.accessToken}` },
      expect: [400, 404, 414],
    });
  });

  it('SQL metacharacters in a valid field are data, not code: stored and returned verbatim', async () => {
    const userName = `Robert'); DROP TABLE users;-- "${'\\'}`;
    const created = await f.http.api('POST', '/users', { body: { userName } });
    expect(created.status).toBe(201);
    const me = await f.http.api('GET', '/users/me', { user: { id: created.body.id, accessToken: created.body.accessToken } });
    expect(me.body.userName).toBe(userName);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE id = $1', [created.body.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('wrong JSON types are refused, not coerced into a valid value (booleans, numeric strings, one-element arrays)', async () => {
    const user = await f.http.createUser('types');
    const token = await f.http.admittedToken(user, ctx.eventId);
    const cases: { name: string; url: string; body: unknown; queue?: boolean }[] = [
      { name: 'amount: true', url: '/users/me/balance/charges', body: { amount: true } },
      { name: 'amount: "100"', url: '/users/me/balance/charges', body: { amount: '100' } },
      { name: 'amount: [100]', url: '/users/me/balance/charges', body: { amount: [100] } },
      { name: 'seatNumber: "7"', url: '/reservations', body: { scheduleId: ctx.scheduleId, seatNumber: '7' }, queue: true },
      { name: 'seatNumber: true', url: '/reservations', body: { scheduleId: ctx.scheduleId, seatNumber: true }, queue: true },
      { name: 'userName: 12345', url: '/users', body: { userName: 12345 } },
    ];
    const outcomes: Record<string, string> = {};
    for (const c of cases) {
      const reply = await f.http.api('POST', c.url, { user, body: c.body, ...(c.queue ? { queueToken: token } : {}) });
      outcomes[c.name] = `${reply.status} ${reply.body?.code ?? ''}`.trim();
    }
    const balance = (await f.http.api('GET', '/users/me/balance', { user })).body.balance;
    expect({ outcomes, balance }).toEqual({ outcomes: Object.fromEntries(cases.map((c) => [c.name, '400 VALIDATION_FAILED'])), balance: 0 });
  });
});
