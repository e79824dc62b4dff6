import { randomUUID } from 'node:crypto';
import type { JsonClient } from './http.js';
import { runLoad, type LoadResult } from './load.js';

export interface BenchUser {
  id: string;
  accessToken: string;
}

export const SEAT_PRICES = { VIP: 15_000, STANDARD: 8_000, STANDING: 4_500 };
export const MAX_SEAT_PRICE = Math.max(...Object.values(SEAT_PRICES));

const DAY_MS = 86_400_000;

/** Events and schedules through the admin API, as an operator would set up a sale. */
export class Admin {
  #schedules = 0;

  constructor(
    private readonly client: JsonClient,
    private readonly adminKey: string,
  ) {}

  async event(label: string): Promise<string> {
    const reply = await this.client.request('POST', '/api/v1/admin/events', { 'x-admin-key': this.adminKey }, {
      code: `BENCH-${label}-${randomUUID().slice(0, 8)}`,
      name: `Benchmark ${label}`,
    });
    if (reply.status !== 201) throw new Error(`create event: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.id;
  }

  async schedule(eventId: string): Promise<string> {
    const startAt = new Date(Date.now() + (7 + this.#schedules++) * DAY_MS);
    const reply = await this.client.request('POST', `/api/v1/admin/events/${eventId}/schedules`, { 'x-admin-key': this.adminKey }, {
      startAt: startAt.toISOString(),
      endAt: new Date(startAt.getTime() + 3 * 3_600_000).toISOString(),
      prices: SEAT_PRICES,
    });
    if (reply.status !== 201) throw new Error(`create schedule: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.id;
  }
}

/** Registers `count` users through POST /users (the load generator does it: it is fast) and keeps their tokens. */
export async function registerUsers(baseUrl: string, count: number, connections: number): Promise<{ users: BenchUser[]; load: LoadResult }> {
  const users = new Array<BenchUser>(count);
  const load = await runLoad({
    baseUrl,
    connections,
    amount: count,
    durationSec: 300,
    request: (i) => ({ method: 'POST', path: '/api/v1/users', body: JSON.stringify({ userName: `bench-${i}` }) }),
    onResponse: (i, status, body) => {
      if (status === 201) {
        const parsed = JSON.parse(body) as BenchUser;
        users[i] = { id: parsed.id, accessToken: parsed.accessToken };
      }
    },
  });
  const missing = users.filter((user) => !user).length + (count - users.length);
  if (load.non2xx > 0 || missing > 0) throw new Error(`registering users failed: ${JSON.stringify(load.outcomes)}`);
  return { users, load };
}

/** Adds `amount` to every user's balance (POST /users/me/balance/charges). */
export async function chargeUsers(baseUrl: string, users: readonly BenchUser[], amount: number, connections: number): Promise<LoadResult> {
  const load = await runLoad({
    baseUrl,
    connections,
    amount: users.length,
    durationSec: 300,
    request: (i) => ({
      method: 'POST',
      path: '/api/v1/users/me/balance/charges',
      headers: { authorization: `Bearer ${users[i]!.accessToken}` },
      body: JSON.stringify({ amount }),
    }),
  });
  if (load.non2xx > 0 || load.requests !== users.length) throw new Error(`charging balances failed: ${JSON.stringify(load.outcomes)}`);
  return load;
}
