import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { TokenSigner } from '../../src/shared/signed-token.js';
import { fuzzTarget, headerSafe, type HostileRequest } from './support/fuzz.js';
import { TOKEN_SECRET } from './support/service.js';

/**
 * Property tests over who may call what: forged, tampered, expired and foreign access and queue tokens,
 * each of which must be answered with a 4xx problem+json, after which the victims' money and holds are
 * untouched and the invariant checker still passes.
 */

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

describe('fuzzing the request schemas with hostile input (fast-check): identities and tokens', () => {
  const { ctx, victim, attacker, property, bearer, expectAftermath } = fuzzTarget('fuzz-auth');

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

  it('after all of it: no 5xx, victims untouched, invariants hold', async () => {
    await expectAftermath(450);
  });
});
