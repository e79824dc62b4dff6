import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiUser, Reply } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, baseEnv, startFaultApp, type FaultApp } from './support/service.js';

/** Abuse limits, on the production backends and on the embedded ones (in-process rate-limit counters). */
const backends = ['postgres+redis', 'embedded'] as const;

const LIMITS = {
  HOLD_MAX_PER_USER: 2,
  RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: 3,
  RATE_LIMIT_HOLDS_PER_MINUTE: 12,
};

describe.each(backends)('abuse limits (%s)', (backend) => {
  let f: FaultApp;

  beforeAll(async () => {
    const env: Record<string, string> = {
      ...baseEnv(`abuse-${backend}`),
      HOLD_MAX_PER_USER: String(LIMITS.HOLD_MAX_PER_USER),
      RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: String(LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE),
      RATE_LIMIT_HOLDS_PER_MINUTE: String(LIMITS.RATE_LIMIT_HOLDS_PER_MINUTE),
    };
    if (backend === 'embedded') {
      delete env.DATABASE_URL;
      delete env.REDIS_URL;
    }
    f = await startFaultApp(env);
  });
  afterAll(() => f?.close());

  const buyer = async (eventId: string, name: string) => {
    const user = await f.http.createUser(name);
    return { user, token: await f.http.admittedToken(user, eventId) };
  };

  const expectRateLimited = (reply: Reply, limit: number) => {
    expectProblem(reply, 429, 'RATE_LIMITED');
    const retryAfter = Number(reply.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after: ${reply.headers['retry-after']}`).toBe(true);
    expect(reply.headers['x-ratelimit-limit']).toBe(String(limit));
    expect(reply.headers['x-ratelimit-remaining']).toBe('0');
  };

  it(`a user holds at most HOLD_MAX_PER_USER (${LIMITS.HOLD_MAX_PER_USER}) seats at once: 409 HOLD_LIMIT_REACHED, a cancel frees a slot, others are unaffected`, async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const { user, token } = await buyer(eventId, 'greedy');
    const first = await f.http.hold(user, token, scheduleId, 1);
    expect((await f.http.hold(user, token, scheduleId, 2)).status).toBe(201);
    expectProblem(await f.http.hold(user, token, scheduleId, 3), 409, 'HOLD_LIMIT_REACHED');

    expect((await f.http.request('DELETE', `/reservations/${first.body.id}`, { user })).status).toBe(200);
    expect((await f.http.hold(user, token, scheduleId, 3)).status).toBe(201);

    const other = await buyer(eventId, 'other');
    expect((await f.http.hold(other.user, other.token, scheduleId, 4)).status).toBe(201);

    // Ten holds at once on ten free seats: the cap is enforced inside the transaction, not raced past.
    const racer = await buyer(eventId, 'racer');
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => f.http.hold(racer.user, racer.token, scheduleId, 20 + i)));
    const statuses = replies.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()).sort();
    expect(statuses).toEqual([...Array(2).fill('201'), ...Array(8).fill('409 HOLD_LIMIT_REACHED')].sort());
  });

  it(`queue joins are rate limited per user (${LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE}/min): then 429 RATE_LIMITED with Retry-After; another user is not affected`, async () => {
    const { eventId } = await f.http.createEventWithSchedule();
    const user = await f.http.createUser('joiner');
    for (let i = 0; i < LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE; i++) expect((await f.http.join(user, eventId)).status).toBe(201);
    expectRateLimited(await f.http.join(user, eventId), LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE);
    expectRateLimited(await f.http.join(user, eventId), LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE);
    expect((await f.http.join(await f.http.createUser('bystander'), eventId)).status).toBe(201);
  });

  it('without a valid access token the join limit counts per IP address', async () => {
    const { eventId } = await f.http.createEventWithSchedule();
    const anonymous = (authorization?: string) =>
      f.http.request('POST', '/queue/tokens', { body: { eventId }, headers: authorization ? { authorization } : {} });
    for (let i = 0; i < LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE; i++) expectProblem(await anonymous(i % 2 ? 'Bearer forged.token' : undefined), 401, 'UNAUTHORIZED');
    expectRateLimited(await anonymous(), LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE);
    expectRateLimited(await anonymous('Bearer another.forgery'), LIMITS.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE);
  });

  it(`hold attempts are rate limited per user (${LIMITS.RATE_LIMIT_HOLDS_PER_MINUTE}/min), failed attempts included: then 429 with Retry-After`, async () => {
    const { eventId, scheduleId } = await f.http.createEventWithSchedule();
    const owner = await buyer(eventId, 'owner');
    expect((await f.http.hold(owner.user, owner.token, scheduleId, 50)).status).toBe(201);
    const { user, token } = await buyer(eventId, 'hammer');
    // Hammering a seat that is taken: each attempt is refused, and each one counts.
    for (let i = 0; i < LIMITS.RATE_LIMIT_HOLDS_PER_MINUTE; i++) expectProblem(await f.http.hold(user, token, scheduleId, 50), 409, 'SEAT_UNAVAILABLE');
    const limited = await f.http.hold(user, token, scheduleId, 49);
    expectRateLimited(limited, LIMITS.RATE_LIMIT_HOLDS_PER_MINUTE);
    // The limit is per user: the owner may still act.
    expect((await f.http.hold(owner.user, owner.token, scheduleId, 49)).status).toBe(201);
  });

  describe('request bodies are limited to 16 KiB', () => {
    let user: ApiUser;
    let queueToken: string;
    let ids: { eventId: string; scheduleId: string };
    beforeAll(async () => {
      ids = await f.http.createEventWithSchedule();
      ({ user, token: queueToken } = await buyer(ids.eventId, 'big-body'));
    });

    const endpoints = () => [
      { url: '/api/v1/users', body: { userName: 'x' } },
      { url: '/api/v1/users/me/balance/charges', body: { amount: 100 } },
      { url: '/api/v1/queue/tokens', body: { eventId: ids.eventId } },
      { url: '/api/v1/reservations', body: { scheduleId: ids.scheduleId, seatNumber: 10 } },
      { url: '/api/v1/payments', body: { reservationId: ids.scheduleId } },
      { url: '/api/v1/admin/events', body: { code: 'BIG', name: 'big' } },
    ];
    const padded = (body: object, size: number) => {
      const base = JSON.stringify({ ...body, pad: '' });
      return JSON.stringify({ ...body, pad: 'x'.repeat(size - Buffer.byteLength(base)) });
    };
    const headers = () => ({ authorization: `Bearer ${user.accessToken}`, 'x-queue-token': queueToken, 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' });

    it('16 KiB + 1 byte → 413 PAYLOAD_TOO_LARGE on every write endpoint, and nothing happens', async () => {
      for (const { url, body } of endpoints()) {
        const reply = await f.http.call('POST', url, { headers: headers(), rawBody: padded(body, 16 * 1024 + 1) });
        expectProblem(reply, 413, 'PAYLOAD_TOO_LARGE');
      }
      expect((await f.http.request('GET', '/users/me/balance', { user })).body).toEqual({ balance: 0 });
      expect((await f.http.request('GET', '/users/me/reservations', { user })).body).toEqual([]);
    });

    it('exactly 16 KiB is read (and then judged by the schema: 400, not 413)', async () => {
      const reply = await f.http.call('POST', '/api/v1/users', { headers: headers(), rawBody: padded({ userName: 'x' }, 16 * 1024) });
      expectProblem(reply, 400, 'VALIDATION_FAILED');
    });

    it('a chunked body with no Content-Length is cut off at 16 KiB too', async () => {
      const { port } = new URL(f.baseUrl);
      const reply = await new Promise<Reply>((resolve, reject) => {
        const started = performance.now();
        const request = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/users/me/balance/charges', headers: { ...headers(), 'transfer-encoding': 'chunked' } },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, headers: response.headers as Record<string, string>, body: JSON.parse(text), ms: performance.now() - started, sentAt: 0 }),
            );
          },
        );
        request.on('error', reject);
        request.write('{"amount": 100, "pad": "');
        const chunk = 'x'.repeat(1024);
        let sent = 0;
        const pump = () => {
          // Keep writing until the server answers or 64 KiB have gone out.
          while (sent < 64 && request.write(chunk)) sent++;
          if (sent < 64) request.once('drain', pump);
          else request.end('"}');
        };
        pump();
      });
      expectProblem(reply, 413, 'PAYLOAD_TOO_LARGE');
      expect((await f.http.request('GET', '/users/me/balance', { user })).body).toEqual({ balance: 0 });
    });
  });

  it('security headers (helmet) on successes, problems, health and the web app', async () => {
    const user = await f.http.createUser('headers');
    const samples: Record<string, Reply> = {
      'api 200': await f.http.request('GET', '/events'),
      'api 201': await f.http.request('POST', '/users', { body: { userName: 'h' } }),
      'problem 401': await f.http.request('GET', '/users/me/balance'),
      'problem 404': await f.http.request('GET', '/api/v1/nothing-here'),
      'problem 400': await f.http.request('POST', '/users/me/balance/charges', { user, body: { amount: -1 } }),
      health: await f.http.call('GET', '/health'),
      'web app': await f.http.call('GET', '/'),
    };
    for (const [name, reply] of Object.entries(samples)) {
      const h = reply.headers;
      const summary = `${name} (${reply.status}): ${JSON.stringify(h)}`;
      expect(reply.status, summary).toBeLessThan(500);
      expect(h['content-security-policy'], summary).toMatch(/default-src 'self'/);
      expect(h['content-security-policy'], summary).toMatch(/object-src 'none'/);
      expect(h['content-security-policy'], summary).toMatch(/frame-ancestors 'self'/);
      expect(h['content-security-policy'], summary).toMatch(/script-src 'self'(;|$)/);
      expect(h['x-content-type-options'], summary).toBe('nosniff');
      expect(h['x-frame-options'], summary).toBe('SAMEORIGIN');
      expect(h['strict-transport-security'], summary).toMatch(/max-age=\d+/);
      expect(h['referrer-policy'], summary).toBe('no-referrer');
      expect(h['cross-origin-opener-policy'], summary).toBe('same-origin');
      expect(h['cross-origin-resource-policy'], summary).toBe('same-origin');
      expect(h['x-dns-prefetch-control'], summary).toBe('off');
      expect(h['x-powered-by'], summary).toBeUndefined();
      expect(h.server, summary).toBeUndefined();
    }
  });
});
