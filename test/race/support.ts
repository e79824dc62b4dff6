import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import type { RedisBackend } from '../support/redis-backends.js';
import { ADMIN_KEY, startApiApp, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * One Redis key prefix per test file (vitest loads this module once per file): the instances of one
 * file share their lines, while another file's admission steps, which visit every line under their
 * prefix with their own capacity, cannot admit this file's waiters.
 */
const filePrefix = `${inject('redisPrefix')}race:${randomUUID().slice(0, 8)}:`;

/** The service on real PostgreSQL and Redis (standalone unless told), listening on loopback, driven over real HTTP. */
export async function startRaceApp(env: Record<string, string> = {}, backend: RedisBackend = 'postgres+redis'): Promise<{ t: TestApp; api: ApiClient }> {
  return listening(await startTestApp(backend, { REDIS_KEY_PREFIX: filePrefix, ...env }));
}

/**
 * The same on a database of its own, for a file that moves its clock far ahead and runs the sweeper:
 * on the run's shared database that would expire other files' holds.
 */
export async function startIsolatedRaceApp(scope: string): Promise<{ t: TestApp; api: ApiClient }> {
  return listening(await startApiApp('postgres+redis', scope));
}

async function listening(t: TestApp): Promise<{ t: TestApp; api: ApiClient }> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, api: ApiClient.http(`http://127.0.0.1:${port}`, { adminKey: ADMIN_KEY }) };
}

export async function admittedUsers(api: ApiClient, eventId: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i): Promise<ApiUser & { queueToken: string }> => {
      const user = await api.createUser(`racer-${i}`);
      return { ...user, queueToken: await api.admittedToken(user, eventId) };
    }),
  );
}

export const countBy = <T>(items: T[], key: (item: T) => string | number) =>
  items.reduce<Record<string, number>>((counts, item) => {
    const k = String(key(item));
    counts[k] = (counts[k] ?? 0) + 1;
    return counts;
  }, {});
