import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CHARGE_AMOUNT } from '../../src/modules/wallet/wallet.schemas.js';
import { fuzzTarget, nastyStrings, notAnInteger, type HostileRequest } from './support/fuzz.js';
import { ADMIN_KEY } from './support/service.js';

/**
 * Property tests over the request schemas: well over a thousand malformed or hostile requests, each of
 * which must be answered with a 4xx problem+json (never a 5xx, never a stack trace), after which the
 * victims' money and holds are untouched and the invariant checker still passes.
 */

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

/** Stands for the suite's schedule in the hold bodies: its id is known only once the suite has set it up. */
const OUR_SCHEDULE = 'S';

describe('fuzzing the request schemas with hostile input (fast-check): bodies and ids', () => {
  const target = fuzzTarget('fuzz-bodies');
  const { ctx, victim, attacker, send, property, bearer, expectAftermath } = target;

  property(
    'hold: seat 0, 51, negative, fractional, huge or not a number; a schedule id that is not a UUID or does not exist; extra or missing fields',
    fc
      .oneof(
        fc.record({ scheduleId: fc.constant(OUR_SCHEDULE), seatNumber: fc.oneof(fc.constantFrom(0, 51, -1, 52, 100, 2 ** 31, 2 ** 53 - 1, -(2 ** 31)), fc.integer({ max: 0 }), fc.integer({ min: 51 }), notAnInteger) }),
        // Never the placeholder itself, which fc.string draws now and then: it would become a valid hold.
        fc.record({ scheduleId: nastyStrings.filter((id) => id !== OUR_SCHEDULE), seatNumber: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ scheduleId: fc.uuid(), seatNumber: fc.integer({ min: 1, max: 50 }) }).map((body) => ({ ...body, missing: true })),
        fc.record({ scheduleId: fc.constant(OUR_SCHEDULE), seatNumber: fc.integer({ min: 1, max: 50 }), extra: fc.oneof(nastyStrings, fc.jsonValue()) }),
        fc.constantFrom({ scheduleId: OUR_SCHEDULE }, { seatNumber: 20 }, {}, [], OUR_SCHEDULE, 42, null, [{ scheduleId: OUR_SCHEDULE, seatNumber: 20 }]),
      )
      .map((body): HostileRequest => {
        const resolved = JSON.parse(JSON.stringify(body ?? null).replaceAll(JSON.stringify(OUR_SCHEDULE), JSON.stringify(ctx.scheduleId)));
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

  it('after all of it: more than 1,000 hostile requests, no 5xx, victims untouched, invariants hold', async () => {
    await expectAftermath(1_000);
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
    const { f, db } = target;
    const userName = `Robert'); DROP TABLE users;-- "${'\\'}`;
    const created = await f.http.request('POST', '/users', { body: { userName } });
    expect(created.status).toBe(201);
    const me = await f.http.request('GET', '/users/me', { user: { id: created.body.id, accessToken: created.body.accessToken } });
    expect(me.body.userName).toBe(userName);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE id = $1', [created.body.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('wrong JSON types are refused, not coerced into a valid value (booleans, numeric strings, one-element arrays)', async () => {
    const { f } = target;
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
      const reply = await f.http.request('POST', c.url, { user, body: c.body, ...(c.queue ? { queueToken: token } : {}) });
      outcomes[c.name] = `${reply.status} ${reply.body?.code ?? ''}`.trim();
    }
    const balance = (await f.http.request('GET', '/users/me/balance', { user })).body.balance;
    expect({ outcomes, balance }).toEqual({ outcomes: Object.fromEntries(cases.map((c) => [c.name, '400 VALIDATION_FAILED'])), balance: 0 });
  });
});
