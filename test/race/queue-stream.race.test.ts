import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../tools/http/api-client.js';
import { redisBackends } from '../support/redis-backends.js';
import { readStream } from '../support/sse.js';
import type { TestApp } from '../support/test-app.js';
import { startRaceApp } from './support.js';

describe.each(redisBackends)('queue updates pushed over Server-Sent Events, across instances (Redis pub/sub, %s)', (backend) => {
  const instances: { t: TestApp; api: ApiClient; url: string }[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const started = await startRaceApp({ QUEUE_MAX_ACTIVE: '1', QUEUE_STREAM_HEARTBEAT_MS: '60000' }, backend);
      const { port } = started.t.app.server.address() as { port: number };
      instances.push({ ...started, url: `http://127.0.0.1:${port}` });
    }
  });
  afterAll(() => Promise.all(instances.map(({ t }) => t.close())));

  it('a waiter streaming from one instance sees ACTIVE the moment another instance admits them', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const { eventId, scheduleId } = await a.api.createEventWithSchedule();
    const buyer = await a.api.createUser('first');
    const waiter = await a.api.createUser('second');
    const buyerToken = await a.api.admittedToken(buyer, eventId);
    const waiting = await a.api.join(waiter, eventId);
    expect(waiting.body).toMatchObject({ status: 'WAITING', position: 1 });

    const stream = readStream(`${a.url}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(waiting.body.token)}`, (m) => m.status === 'ACTIVE');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The buyer pays through instance B; B's admission step frees the slot and announces it.
    await b.api.charge(buyer, 50_000);
    const hold = await b.api.hold(buyer, buyerToken, scheduleId, 1);
    expect((await b.api.pay(buyer, buyerToken, hold.body.id)).status).toBe(201);
    await b.t.services.queue.admitAll();

    const messages = await stream;
    expect(messages[0]).toMatchObject({ status: 'WAITING', position: 1 });
    expect(messages.at(-1)).toMatchObject({ status: 'ACTIVE', position: 0, etaSeconds: 0 });
  });

  it('refuses a bad token with problem+json before any stream starts, and ends a stream whose token expires', async () => {
    const [a] = instances;
    const bad = await fetch(`${a!.url}/api/v1/queue/tokens/current/stream?token=nope`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);

    const { eventId } = await a!.api.createEventWithSchedule();
    const user = await a!.api.createUser();
    const token = await a!.api.admittedToken(user, eventId);
    const stream = readStream(`${a!.url}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(token)}`, (m) => m.status === 'EXPIRED');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const claims = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    await a!.t.infra.waitingRoom.complete(eventId, user.id, claims.tid);
    await a!.t.infra.queueEvents.publish(eventId);
    expect((await stream).map((m) => m.status)).toEqual(['ACTIVE', 'EXPIRED']);
  });
});
