import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logging.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, startTestApp, type TestApp } from '../support/test-app.js';
import { buyer, holdOk } from './helpers.js';

/** Defects a review found by attacking the service; each test here failed before its fix. */

const PROXY = '10.0.0.2';

async function viaProxy(t: TestApp, forwardedFor: string, userName: string) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/users',
    remoteAddress: PROXY,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    payload: JSON.stringify({ userName }),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
}

describe.each(['1', PROXY])('per-IP limits behind one trusted proxy (TRUST_PROXY=%s)', (trust) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded', { TRUST_PROXY: trust, RATE_LIMIT_SIGNUPS_PER_MINUTE: '3' });
  });
  afterAll(() => t?.close());

  it('counts the address the proxy saw: forging the left of X-Forwarded-For does not escape the limit', async () => {
    // The proxy appends the real client; everything left of it is whatever the client wrote.
    for (let i = 0; i < 3; i++) expect((await viaProxy(t, `198.51.100.${i}, 203.0.113.7`, 'ann')).status).toBe(201);
    const limited = await viaProxy(t, '198.51.100.99, 203.0.113.7', 'ann');
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('does not limit another client behind the same proxy', async () => {
    expect((await viaProxy(t, '203.0.113.8', 'bob')).status).toBe(201);
  });
});

describe('queue tokens stay out of the logs', () => {
  let t: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    t = await startTestApp('embedded', {}, { logger: createLogger('info', sink) });
  });
  afterAll(() => t?.close());

  it.each(['token', '%74oken', 'Token', 't%6Fken'])('redacts ?%s= from the logged URL, however it is spelled', async (name) => {
    lines.length = 0;
    await t.app.inject({ method: 'GET', url: `/api/v1/queue/tokens/current/stream?${name}=SECRET-VALUE&x=1` });
    const logged = lines.join('');
    expect(logged).toContain('/api/v1/queue/tokens/current/stream');
    expect(logged).not.toContain('SECRET-VALUE');
  });

  it('keeps a short plain x-request-id as the log id and replaces anything else', async () => {
    const idOf = async (given: string) => {
      lines.length = 0;
      await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': given } });
      return JSON.parse(lines[0]!).reqId as string;
    };
    expect(await idOf('lb-1234.abc')).toBe('lb-1234.abc');
    for (const given of ['x'.repeat(65), 'evil\nINFO forged line', '<script>', '']) {
      expect(await idOf(given)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it('never logs credentials from headers', async () => {
    lines.length = 0;
    t.app.log.info({ headers: { authorization: 'Bearer SECRET-BEARER', 'x-queue-token': 'SECRET-QUEUE' } }, 'headers');
    expect(lines.join('')).not.toMatch(/SECRET-/);
  });
});

describe.each(backends)('hardening (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;
  beforeAll(async () => {
    t = await startApiApp(backend, 'hardening', {
      RATE_LIMIT_CHARGES_PER_MINUTE: '2',
      RATE_LIMIT_PAYMENTS_PER_MINUTE: '2',
      RATE_LIMIT_CANCELS_PER_MINUTE: '2',
    });
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  it.each(['!', '%', ' ', '=', '+'])('refuses a queue or bearer token with %j added to its signature (only canonical base64url)', async (junk) => {
    const { eventId } = await client.createEventWithSchedule();
    const { user, token } = await buyer(client, eventId);
    const spoiled = (value: string) => `${value.slice(0, -3)}${junk}${value.slice(-3)}`;
    expectProblem(await client.request('GET', '/queue/tokens/current', { queueToken: spoiled(token) }), 401, 'QUEUE_TOKEN_INVALID');
    expectProblem(await client.request('GET', '/users/me', { user: { ...user, accessToken: spoiled(user.accessToken) } }), 401, 'UNAUTHORIZED');
    expect((await client.request('GET', '/users/me', { user })).status).toBe(200);
  });

  it('limits wallet charges per user (429 with Retry-After); another user is not limited', async () => {
    const [ann, bob] = [await client.createUser('ann'), await client.createUser('bob')];
    for (let i = 0; i < 2; i++) expect((await client.charge(ann, 100)).status).toBe(200);
    const limited = await client.charge(ann, 100);
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await client.balance(ann)).body.balance).toBe(200);
    expect((await client.charge(bob, 100)).status).toBe(200);
  });

  it('limits payments and cancels per user', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const { user, token } = await buyer(client, eventId);
    const holds = [await holdOk(client, user, token, scheduleId, 1), await holdOk(client, user, token, scheduleId, 2)];
    for (const hold of holds) expect((await client.request('DELETE', `/reservations/${hold.id}`, { user })).status).toBe(200);
    const third = await holdOk(client, user, token, scheduleId, 3);
    expectProblem(await client.request('DELETE', `/reservations/${third.id}`, { user }), 429, 'RATE_LIMITED');
    // Payments count attempts, refused ones included; nothing is paid past the limit.
    for (let i = 0; i < 2; i++) expect((await client.pay(user, token, holds[0]!.id)).status).toBe(409);
    expectProblem(await client.pay(user, token, third.id), 429, 'RATE_LIMITED');
    expect((await client.request('GET', '/users/me/payments', { user })).body).toHaveLength(0);
  });
});
