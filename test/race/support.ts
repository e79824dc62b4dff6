import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { ApiClient, type ApiUser } from '../../tools/http/api-client.js';
import type { RedisBackend } from '../support/redis-backends.js';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * One Redis key prefix per test file (vitest loads this module once per file): the instances of one
 * file share their lines, while another file's admission steps, which visit every line under their
 * prefix with their own capacity, cannot admit this file's waiters.
 */
const filePrefix = `${inject('redisPrefix')}race:${randomUUID().slice(0, 8)}:`;

/** The service on real PostgreSQL and Redis (standalone unless told), listening on loopback, driven over real HTTP. */
export async function startRaceApp(env: Record<string, string> = {}, backend: RedisBackend = 'postgres+redis'): Promise<{ t: TestApp; api: ApiClient }> {
  const t = await startTestApp(backend, { REDIS_KEY_PREFIX: filePrefix, ...env });
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
