import { randomUUID } from 'node:crypto';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import { runLoad, type LoadResult } from './load.js';

export const MAX_SEAT_PRICE = Math.max(...Object.values(HOUSE_PRICES));

const DAY_MS = 86_400_000;

/**
 * The shared API client on a server the benchmark started: loopback only, at most `connections` sockets,
 * 30 s per request, on the lean transport, so the load generator takes as little of the machine's CPU from
 * the server as it can.
 */
export function benchClient(baseUrl: string, connections: number, adminKey?: string): ApiClient {
  const { hostname } = new URL(baseUrl);
  if (hostname !== '127.0.0.1') throw new Error(`the benchmark only talks to 127.0.0.1, not ${hostname}`);
  return ApiClient.lean(baseUrl, { connections, timeoutMs: 30_000, ...(adminKey ? { adminKey } : {}) });
}

/** Events and schedules through the admin API, as an operator would set up a sale. */
export class Admin {
  #schedules = 0;

  constructor(private readonly client: ApiClient) {}

  async event(label: string): Promise<string> {
    return (await this.client.createEvent({ code: `BENCH-${label}-${randomUUID().slice(0, 8)}`, name: `Benchmark ${label}` })).id;
  }

  /** A schedule a week or more ahead, three hours long, at the house prices. */
  async schedule(eventId: string): Promise<string> {
    const startAt = new Date(Date.now() + (7 + this.#schedules++) * DAY_MS);
    return (await this.client.createSchedule(eventId, { startAt, durationMs: 3 * 3_600_000 })).id;
  }
}

/** Registers `count` users through POST /users (the load generator does it: it is fast) and keeps their tokens. */
export async function registerUsers(baseUrl: string, count: number, connections: number): Promise<{ users: ApiUser[]; load: LoadResult }> {
  const users = new Array<ApiUser>(count);
  const load = await runLoad({
    baseUrl,
    connections,
    amount: count,
    durationSec: 300,
    request: (i) => ({ method: 'POST', path: '/api/v1/users', body: JSON.stringify({ userName: `bench-${i}` }) }),
    onResponse: (i, status, body) => {
      if (status === 201) {
        const parsed = JSON.parse(body) as ApiUser;
        users[i] = { id: parsed.id, accessToken: parsed.accessToken };
      }
    },
  });
  const missing = users.filter((user) => !user).length + (count - users.length);
  if (load.non2xx > 0 || missing > 0) throw new Error(`registering users failed: ${JSON.stringify(load.outcomes)}`);
  return { users, load };
}

/** Adds `amount` to every user's balance (POST /users/me/balance/charges). */
export async function chargeUsers(baseUrl: string, users: readonly ApiUser[], amount: number, connections: number): Promise<LoadResult> {
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
