import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiUser } from '../../tools/http/api-client.js';
import type { TestApp } from '../support/test-app.js';
import { startRaceApp } from './support.js';

const CAPACITY = 10;
const USERS = 120;

const tokenIdOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { tid: string }).tid;

describe('FIFO admission across instances (Redis)', () => {
  const instances: { t: TestApp; api: ApiClient }[] = [];
  beforeAll(async () => {
    const env = { QUEUE_MAX_ACTIVE: String(CAPACITY), QUEUE_ADMIT_PER_SECOND: '1000' };
    instances.push(await startRaceApp(env), await startRaceApp(env), await startRaceApp(env));
  });
  afterAll(() => Promise.all(instances.map(({ t }) => t.close())));

  it(`${USERS} users joining through three instances at once are admitted in join order, never above capacity`, async () => {
    const api = instances[0]!.api;
    const room = instances[0]!.t.infra.waitingRoom;
    const { eventId } = await api.createEventWithSchedule();
    const users: ApiUser[] = await Promise.all(Array.from({ length: USERS }, (_, i) => api.createUser(`fan-${i}`)));
    const joins = await Promise.all(users.map((user, i) => instances[i % 3]!.api.join(user, eventId)));
    expect(joins.every((reply) => reply.status === 201)).toBe(true);

    const state = async (token: string) => (await api.request('GET', '/queue/tokens/current', { queueToken: token })).body;
    const tickets = users.map((user, i) => ({ user, token: joins[i]!.body.token as string }));
    const first = await Promise.all(tickets.map(({ token }) => state(token)));
    expect(first.filter((s) => s.status === 'ACTIVE')).toHaveLength(CAPACITY);
    const waiting = first.filter((s) => s.status === 'WAITING').map((s) => s.position).sort((a, b) => a - b);
    expect(waiting).toEqual(Array.from({ length: USERS - CAPACITY }, (_, i) => i + 1));

    // The line in the order the service gave: the admitted first, then waiters by position.
    const line = tickets
      .map((ticket, i) => ({ ...ticket, rank: first[i]!.status === 'ACTIVE' ? 0 : first[i]!.position }))
      .sort((a, b) => a.rank - b.rank);

    for (let served = 0; served < USERS; served += CAPACITY) {
      const batch = line.slice(served, served + CAPACITY);
      const states = await Promise.all(line.slice(served).map(({ token }) => state(token)));
      // Exactly the next CAPACITY people in line are active; everyone behind them still waits.
      expect(states.map((s) => s.status)).toEqual(line.slice(served).map((_, i) => (i < CAPACITY ? 'ACTIVE' : 'WAITING')));
      await Promise.all(batch.map(({ user, token }) => room.complete(eventId, user.id, tokenIdOf(token))));
      // Every instance runs admission twice, concurrently: no double admission, no reordering.
      await Promise.all(instances.flatMap(({ t }) => [t.services.queue.admitAll(), t.services.queue.admitAll()]));
      expect((await room.stats(eventId)).active).toBeLessThanOrEqual(CAPACITY);
    }
    expect(await room.admissionLog(eventId)).toEqual(Array.from({ length: USERS }, (_, i) => i + 1));
  });
});
