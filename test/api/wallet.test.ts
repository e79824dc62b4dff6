import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../tools/http/api-client.js';
import { expectProblem } from '../support/expect.js';
import { ADMIN_KEY, backends, startApiApp, type TestApp } from '../support/test-app.js';
import { ledger } from './helpers.js';

describe.each(backends)('wallet (%s)', (backend) => {
  let t: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    t = await startApiApp(backend, 'wallet');
    client = ApiClient.inject(t.app, { adminKey: ADMIN_KEY });
  });
  afterAll(() => t?.close());

  it('adds charges to the balance and records each as a CHARGE ledger row, newest first', async () => {
    const user = await client.createUser();
    const first = await client.charge(user, 1_000);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ balance: 1_000 });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect((await client.charge(user, 10_000_000)).body).toEqual({ balance: 10_001_000 });
    expect((await client.balance(user)).body).toEqual({ balance: 10_001_000 });

    const history = await ledger(client, user);
    expect(history.status).toBe(200);
    expect(history.body).toEqual([
      { id: expect.any(Number), amount: 10_000_000, kind: 'CHARGE', reference: null, createdAt: expect.any(String) },
      { id: expect.any(Number), amount: 1_000, kind: 'CHARGE', reference: null, createdAt: expect.any(String) },
    ]);
    expect(history.body[0].id).toBeGreaterThan(history.body[1].id);
  });

  it("keeps each user's balance and history separate", async () => {
    const [a, b] = [await client.createUser('a'), await client.createUser('b')];
    await client.charge(a, 700);
    expect((await client.balance(b)).body).toEqual({ balance: 0 });
    expect((await ledger(client, b)).body).toEqual([]);
  });

  it.each([
    ['0', { amount: 0 }],
    ['-5', { amount: -5 }],
    ['1.5', { amount: 1.5 }],
    ['10,000,001', { amount: 10_000_001 }],
    ['"abc"', { amount: 'abc' }],
    ['missing', {}],
    ['with an extra property', { amount: 100, currency: 'EUR' }],
  ])('refuses an amount %s with 400 VALIDATION_FAILED and changes nothing', async (_label, body) => {
    const user = await client.createUser();
    await client.charge(user, 50);
    const reply = await client.request('POST', '/users/me/balance/charges', { user, body });
    expectProblem(reply, 400, 'VALIDATION_FAILED');
    expect((await client.balance(user)).body).toEqual({ balance: 50 });
    expect((await ledger(client, user)).body).toHaveLength(1);
  });

  it('refuses a numeric string amount (400) and credits nothing', async () => {
    const user = await client.createUser();
    const reply = await client.request('POST', '/users/me/balance/charges', { user, body: { amount: '100' } });
    expectProblem(reply, 400, 'VALIDATION_FAILED');
    expect((await client.balance(user)).body).toEqual({ balance: 0 });
  });

  it('refuses every wallet endpoint without a bearer token (401 UNAUTHORIZED)', async () => {
    expectProblem(await client.request('GET', '/users/me/balance'), 401, 'UNAUTHORIZED');
    expectProblem(await client.request('GET', '/users/me/balance/history'), 401, 'UNAUTHORIZED');
    expectProblem(await client.request('POST', '/users/me/balance/charges', { body: { amount: 10 } }), 401, 'UNAUTHORIZED');
  });

  describe('Idempotency-Key', () => {
    it('replays a retried charge: same balance, marked idempotent-replayed, credited once', async () => {
      const user = await client.createUser();
      const key = randomUUID();
      const first = await client.charge(user, 2_500, key);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ balance: 2_500 });
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const retry = await client.charge(user, 2_500, key);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual({ balance: 2_500 });
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect((await client.balance(user)).body).toEqual({ balance: 2_500 });
      expect((await ledger(client, user)).body).toHaveLength(1);

      // Another key is another charge.
      expect((await client.charge(user, 2_500, randomUUID())).body).toEqual({ balance: 5_000 });
    });

    it('refuses the same key with a different amount with 409 IDEMPOTENCY_CONFLICT', async () => {
      const user = await client.createUser();
      const key = randomUUID();
      await client.charge(user, 300, key);
      expectProblem(await client.charge(user, 301, key), 409, 'IDEMPOTENCY_CONFLICT');
      expect((await client.balance(user)).body).toEqual({ balance: 300 });
      expect((await ledger(client, user)).body).toHaveLength(1);
    });

    it('scopes keys per user', async () => {
      const [a, b] = [await client.createUser('a'), await client.createUser('b')];
      const key = randomUUID();
      await client.charge(a, 400, key);
      const reply = await client.charge(b, 900, key);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ balance: 900 });
      expect(reply.headers['idempotent-replayed']).toBeUndefined();
    });

    it.each([
      ['too long', 'k'.repeat(129)],
      ['with a space', 'two words'],
    ])('refuses a key that is %s with 400', async (_label, key) => {
      const user = await client.createUser();
      expectProblem(await client.charge(user, 100, key), 400, 'VALIDATION_FAILED');
      expect((await client.balance(user)).body).toEqual({ balance: 0 });
    });
  });
});
