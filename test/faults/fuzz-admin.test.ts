import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fuzzTarget, headerSafe, nastyStrings, notAnInteger, type HostileRequest } from './support/fuzz.js';
import { ADMIN_KEY } from './support/service.js';

/**
 * Property tests over the admin endpoints: no key, a wrong key, or a valid key with hostile events and
 * schedules, each of which must be answered with a 4xx problem+json, after which the victims' money and
 * holds are untouched and the invariant checker still passes.
 */

describe('fuzzing the request schemas with hostile input (fast-check): admin endpoints', () => {
  const { ctx, property, expectAftermath } = fuzzTarget('fuzz-admin');

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

  it('after all of it: no 5xx, victims untouched, invariants hold', async () => {
    await expectAftermath(200);
  });
});
