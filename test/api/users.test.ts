import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/shared/signed-token.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { tamper } from './helpers.js';

describe.each(backends)('users and bearer auth (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;
  const me = (authorization?: string) =>
    client.request('GET', '/users/me', authorization === undefined ? {} : { headers: { authorization } });

  beforeAll(async () => {
    t = await startApiApp(backend, 'users');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  describe('POST /users', () => {
    it('registers a user with an empty wallet and a working access token', async () => {
      const reply = await client.request('POST', '/users', { body: { userName: '  Ada  ' } });
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        userName: 'Ada',
        createdAt: expect.any(String),
        accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+$/),
      });
      const user: ApiUser = { id: reply.body.id, accessToken: reply.body.accessToken };
      const self = await client.request('GET', '/users/me', { user });
      expect(self.status).toBe(200);
      expect(self.body).toEqual({ id: user.id, userName: 'Ada', createdAt: reply.body.createdAt });
      expect((await client.balance(user)).body).toEqual({ balance: 0 });
    });

    it('accepts a name of exactly 64 characters', async () => {
      const reply = await client.request('POST', '/users', { body: { userName: 'n'.repeat(64) } });
      expect(reply.status).toBe(201);
      expect(reply.body.userName).toBe('n'.repeat(64));
    });

    it.each([
      ['empty', { userName: '' }],
      ['blank', { userName: '   ' }],
      ['65 characters', { userName: 'n'.repeat(65) }],
      ['missing', {}],
      ['with an extra property', { userName: 'ok', admin: true }],
      ['an object', { userName: { first: 'Ada' } }],
      ['null', { userName: null }],
    ])('rejects a name that is %s with 400 VALIDATION_FAILED', async (_label, body) => {
      const reply = await client.request('POST', '/users', { body });
      expectProblem(reply, 400, 'VALIDATION_FAILED');
      expect(reply.body.instance).toBe('/api/v1/users');
    });

    it('refuses a number where text is expected (types are strict)', async () => {
      expectProblem(await client.request('POST', '/users', { body: { userName: 123 } }), 400, 'VALIDATION_FAILED');
      expectProblem(await client.request('POST', '/users', { body: { userName: ['x'] } }), 400, 'VALIDATION_FAILED');
    });

    // The schema lets a NUL character through; PostgreSQL text cannot store it, and that is mapped to 400.
    it('rejects a name containing a NUL character with 400, not 500', async () => {
      const reply = await client.request('POST', '/users', { body: { userName: 'a\u0000b' } });
      expectProblem(reply, 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /users/me', () => {
    it('refuses a request without a bearer token', async () => {
      expectProblem(await me(), 401, 'UNAUTHORIZED');
      expectProblem(await me('Basic dXNlcjpwYXNz'), 401, 'UNAUTHORIZED');
      expectProblem(await me('Bearer '), 401, 'UNAUTHORIZED');
    });

    it('refuses garbage and tampered tokens', async () => {
      const user = await client.createUser();
      expect((await me(`Bearer ${user.accessToken}`)).status).toBe(200);
      expectProblem(await me('Bearer not-a-token'), 401, 'UNAUTHORIZED');
      expectProblem(await me(`Bearer ${tamper(user.accessToken, 'payload')}`), 401, 'UNAUTHORIZED');
      expectProblem(await me(`Bearer ${tamper(user.accessToken, 'signature')}`), 401, 'UNAUTHORIZED');
    });

    it('refuses a token signed with another secret, even for a real user', async () => {
      const user = await client.createUser();
      const now = t.clock.now().getTime();
      const forged = new TokenSigner('another-secret-another-secret-0123456').sign({ typ: 'access', sub: user.id, iat: now, exp: now + 60_000 });
      expectProblem(await me(`Bearer ${forged}`), 401, 'UNAUTHORIZED');
    });

    it('refuses a queue token used as a bearer token', async () => {
      const user = await client.createUser();
      const { eventId } = await client.createEventWithSchedule();
      const queueToken = await client.admittedToken(user, eventId);
      expectProblem(await me(`Bearer ${queueToken}`), 401, 'UNAUTHORIZED');
    });

    it('accepts an access token until ACCESS_TOKEN_TTL_SECONDS have passed, then refuses it', async () => {
      const user = await client.createUser();
      const ttlMs = t.services.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
      t.clock.advance(ttlMs - 1_000);
      expect((await client.request('GET', '/users/me', { user })).status).toBe(200);
      t.clock.advance(1_000);
      const reply = await client.request('GET', '/users/me', { user });
      expectProblem(reply, 401, 'UNAUTHORIZED');
      expect(reply.body.detail).toMatch(/expired/);
      // Other bearer endpoints refuse it too.
      expectProblem(await client.balance(user), 401, 'UNAUTHORIZED');
    });
  });
});
