import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type Reply } from '../../tools/http/api-client.js';
import { metric } from '../../tools/metrics.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';

describe.each(backends)('HTTP errors, OpenAPI and health (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  /** A request with a raw body and content type, past the JSON encoding. */
  const raw = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: string, contentType?: string): Promise<Reply> =>
    client.call(method, url, { ...(payload === undefined ? {} : { rawBody: payload }), headers: contentType ? { 'content-type': contentType } : {} });

  beforeAll(async () => {
    t = await startApiApp(backend, 'errors', { RATE_LIMIT_QUEUE_JOINS_PER_MINUTE: '3', RATE_LIMIT_HOLDS_PER_MINUTE: '3' });
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  describe('problem+json', () => {
    it('answers an unknown route with 404 NOT_FOUND, the query left out of instance', async () => {
      const reply = await raw('GET', '/api/v1/nowhere?secret=1');
      expectProblem(reply, 404, 'NOT_FOUND');
      expect(reply.body.instance).toBe('/api/v1/nowhere');
      expectProblem(await raw('DELETE', '/api/v1/users'), 404, 'NOT_FOUND');
    });

    it('answers malformed JSON with 400 VALIDATION_FAILED', async () => {
      const reply = await raw('POST', '/api/v1/users', '{"userName": "ada"', 'application/json');
      expectProblem(reply, 400, 'VALIDATION_FAILED');
      expect(reply.body.instance).toBe('/api/v1/users');
    });

    it('refuses a prototype-poisoning body with 400 VALIDATION_FAILED', async () => {
      expectProblem(await raw('POST', '/api/v1/users', '{"userName":"ada","__proto__":{"admin":true}}', 'application/json'), 400, 'VALIDATION_FAILED');
    });

    it('answers an empty JSON body with 400 VALIDATION_FAILED', async () => {
      expectProblem(await raw('POST', '/api/v1/users', '', 'application/json'), 400, 'VALIDATION_FAILED');
    });

    it.each(['application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x'])(
      'answers a %s body with 415 UNSUPPORTED_MEDIA_TYPE',
      async (contentType) => {
        expectProblem(await raw('POST', '/api/v1/users', 'userName=ada', contentType), 415, 'UNSUPPORTED_MEDIA_TYPE');
      },
    );

    // README: 415 for any body that is not JSON; the built-in text/plain parser is removed for that.
    it('answers a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      expectProblem(await raw('POST', '/api/v1/users', 'userName=ada', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers a body over 16 KiB with 413 PAYLOAD_TOO_LARGE and creates nothing', async () => {
      const user = await client.createUser();
      const body = JSON.stringify({ amount: 100, pad: 'x'.repeat(16 * 1024) });
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/me/balance/charges',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
        payload: body,
      });
      expectProblem({ status: response.statusCode, headers: response.headers, body: response.json() }, 413, 'PAYLOAD_TOO_LARGE');
      expect((await client.balance(user)).body).toEqual({ balance: 0 });
    });

    it('accepts a body just under the limit (the limit is not lower than documented)', async () => {
      const reply = await raw('POST', '/api/v1/users', JSON.stringify({ userName: 'ada', pad: 'x'.repeat(15 * 1024) }), 'application/json');
      // Reaches validation, which refuses the extra property: 400, not 413.
      expectProblem(reply, 400, 'VALIDATION_FAILED');
    });

    it('renders an unexpected failure as a bare 500 INTERNAL problem, with no message or stack trace', async () => {
      const user = await client.createUser();
      const original = t.services.users.get;
      t.services.users.get = async () => {
        throw new Error('boom: connection string postgres://secret@db at src/x.ts:1');
      };
      try {
        const reply = await client.request('GET', '/users/me', { user });
        expectProblem(reply, 500, 'INTERNAL');
        expect(JSON.stringify(reply.body)).not.toMatch(/boom|secret|x\.ts|stack/);
      } finally {
        t.services.users.get = original;
      }
      expect((await client.request('GET', '/users/me', { user })).status).toBe(200);
    });
  });

  describe('rate limits', () => {
    it('refuses a user past RATE_LIMIT_QUEUE_JOINS_PER_MINUTE with 429 RATE_LIMITED and Retry-After; others are unaffected', async () => {
      const { eventId } = await client.createEventWithSchedule();
      const [eager, calm] = [await client.createUser('eager'), await client.createUser('calm')];
      for (let i = 0; i < 3; i++) expect((await client.join(eager, eventId)).status).toBe(201);
      const limited = await client.join(eager, eventId);
      expectProblem(limited, 429, 'RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await client.join(calm, eventId)).status).toBe(201);
    });

    it('refuses holds past RATE_LIMIT_HOLDS_PER_MINUTE with 429 RATE_LIMITED and holds nothing', async () => {
      const { eventId, scheduleId } = await client.createEventWithSchedule();
      const user = await client.createUser();
      const token = await client.admittedToken(user, eventId);
      for (const seat of [1, 2, 3]) expect((await client.hold(user, token, scheduleId, seat)).status).toBe(201);
      expectProblem(await client.hold(user, token, scheduleId, 4), 429, 'RATE_LIMITED');
      const seats = (await client.seats(token, scheduleId)).body as { seatNumber: number; status: string }[];
      expect(seats.find((seat) => seat.seatNumber === 4)?.status).toBe('AVAILABLE');
    });
  });

  describe('OpenAPI and Swagger UI', () => {
    it('serves an OpenAPI 3 document describing every endpoint', async () => {
      const reply = await raw('GET', '/docs/json');
      expect(reply.status).toBe(200);
      expect(reply.body.openapi).toMatch(/^3\./);
      const operations = Object.entries(reply.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(operations).toEqual(
        expect.arrayContaining([
          'GET /health',
          'GET /ready',
          'GET /metrics',
          'POST /api/v1/users',
          'GET /api/v1/users/me',
          'POST /api/v1/queue/tokens',
          'GET /api/v1/queue/tokens/current',
          'GET /api/v1/queue/tokens/current/stream',
          'GET /api/v1/events',
          'GET /api/v1/events/{id}/schedules',
          'GET /api/v1/schedules/{id}/seats',
          'GET /api/v1/schedules/{id}/seats/stream',
          'POST /api/v1/admin/events',
          'POST /api/v1/admin/events/{id}/schedules',
          'POST /api/v1/reservations',
          'GET /api/v1/reservations/{id}',
          'DELETE /api/v1/reservations/{id}',
          'GET /api/v1/users/me/reservations',
          'GET /api/v1/users/me/balance',
          'POST /api/v1/users/me/balance/charges',
          'GET /api/v1/users/me/balance/history',
          'POST /api/v1/payments',
          'GET /api/v1/users/me/payments',
        ]),
      );
      expect(Object.keys(reply.body.components.securitySchemes).sort()).toEqual(['adminKey', 'bearerAuth', 'queueToken']);
      const payment = reply.body.paths['/api/v1/payments'].post;
      expect(Object.keys(payment.responses)).toEqual(expect.arrayContaining(['201', '402', '409', '410']));
      const seats = reply.body.paths['/api/v1/schedules/{id}/seats'].get;
      expect(Object.keys(seats.responses)).toEqual(expect.arrayContaining(['200', '304', '401', '403']));
      expect(seats.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['if-none-match', 'x-queue-token']));
    });

    it('serves the Swagger UI at /docs', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/docs' });
      if (response.statusCode >= 300 && response.statusCode < 400) {
        expect(response.headers.location).toMatch(/docs/);
      } else {
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toMatch(/text\/html/);
        expect(response.body).toMatch(/swagger/i);
      }
    });
  });

  describe('health, metrics and headers', () => {
    it('serves Prometheus metrics on /metrics', async () => {
      await raw('GET', '/health');
      const response = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.body).toMatch(/^http_request_duration_seconds_count\{.*route="\/health".*\} \d+/m);
    });

    it('counts the event loop\'s busy time on /metrics, growing with the work done between scrapes', async () => {
      const busy = async () => metric((await t.app.inject({ method: 'GET', url: '/metrics' })).body, 'nodejs_eventloop_busy_seconds_total');
      const before = await busy();
      const spinUntil = performance.now() + 30;
      await new Promise<void>((resolve) => setImmediate(() => {
        while (performance.now() < spinUntil);
        resolve();
      }));
      const after = await busy();
      expect(before).toBeGreaterThan(0);
      expect(after - before).toBeGreaterThanOrEqual(0.025);
    });

    it('sends security headers on API responses', async () => {
      const reply = await raw('GET', '/api/v1/events');
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['content-security-policy']).toMatch(/default-src 'self'/);
    });

    it('reports liveness on /health', async () => {
      const reply = await raw('GET', '/health');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: 'ok' });
    });

    it('reports each dependency on /ready', async () => {
      const reply = await raw('GET', '/ready');
      expect(reply.status).toBe(200);
      const checks = backend !== 'embedded' ? { database: 'ok', redis: 'ok' } : { database: 'ok' };
      expect(reply.body).toEqual({ status: 'ready', checks });
    });

    it('answers 503 on /ready while a dependency fails, naming the check but never the driver message', async () => {
      const original = t.services.checks.database!;
      t.services.checks.database = async () => {
        throw new Error('connect ECONNREFUSED 10.1.2.3:5432');
      };
      try {
        const reply = await raw('GET', '/ready');
        expect(reply.status).toBe(503);
        expect(reply.body).toEqual({ status: 'unavailable', checks: { database: 'failed', ...(backend !== 'embedded' ? { redis: 'ok' } : {}) } });
        expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|5432/);
      } finally {
        t.services.checks.database = original;
      }
      expect((await raw('GET', '/ready')).status).toBe(200);
    });
  });
});
