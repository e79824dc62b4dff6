import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QueueStreamHub, type StreamClient, type StreamMessage } from '../../src/modules/queue/queue-stream.js';
import type { QueueView } from '../../src/modules/queue/queue.schemas.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { ADMIN_KEY, startApiApp, type TestApp } from '../support/test-app.js';

const WAITERS = 2_000;
const NEAR_FRONT = 100;
const CAPACITY = 10;

/**
 * The stream hub at scale, on PostgreSQL + Redis: a move of the line's head costs one store read for
 * the whole line plus exact reads near the front, not one per waiter, and the places it works out for
 * everyone further back are the exact ones (with nobody leaving mid-line, the two must agree).
 */
describe('queue streams follow a long line with a constant number of store calls per move (postgres+redis)', () => {
  let t: TestApp;
  let hub: QueueStreamHub;
  const sent = new Map<string, StreamMessage[]>();

  beforeAll(async () => {
    t = await startApiApp('postgres+redis', 'fanout', { QUEUE_MAX_ACTIVE: String(CAPACITY) });
    hub = new QueueStreamHub(
      t.services.queue,
      t.infra.queueEvents,
      { heartbeatMs: 600_000, streamsPerToken: 2, exactNearFront: NEAR_FRONT, farPushIntervalMs: 0 },
      pino({ level: 'silent' }),
    );
    await hub.start();
  });
  afterAll(async () => {
    await hub?.stop();
    await t?.close();
  });

  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it(`${WAITERS} waiters: one admission step costs ${Math.ceil((NEAR_FRONT + 2 * CAPACITY) / 500)} batched read(s) and one total, and every far place is exact`, async () => {
    const { eventId } = await ApiClient.inject(t.app, { adminKey: ADMIN_KEY }).createEventWithSchedule();
    const views: QueueView[] = [];
    for (let i = 0; i < WAITERS + CAPACITY; i++) views.push(await t.services.queue.join(randomUUID(), eventId));
    expect(views.filter((view) => view.status === 'ACTIVE')).toHaveLength(CAPACITY);
    const clientOf = (view: QueueView): StreamClient => ({
      eventId,
      token: view.token,
      send: (message) => sent.set(view.token, [...(sent.get(view.token) ?? []), message]),
      heartbeat: () => undefined,
      end: () => undefined,
    });
    const reads = vi.spyOn(t.services.queue, 'currentMany');
    const totals = vi.spyOn(t.services.queue, 'admittedTotal');
    for (const view of views) hub.add(clientOf(view), view);
    // Following the event starts with one exact read of everyone, in batches.
    const readSoFar = () => reads.mock.calls.reduce((sum, [, tokens]) => sum + tokens.length, 0);
    await vi.waitFor(() => expect(readSoFar()).toBe(WAITERS + CAPACITY), { timeout: 10_000 });
    await Promise.all(reads.mock.results.map((result) => result.value));
    reads.mockClear();
    totals.mockClear();
    // Five buyers finish: five slots free, the next five are admitted and the line's head moves.
    const actives = views.filter((view) => view.status === 'ACTIVE').slice(0, 5);
    for (const view of actives) await t.services.queue.complete({ userId: view.userId, eventId, tokenId: tokenIdOf(view.token) });
    await vi.waitFor(() => expect(sent.get(views[CAPACITY + WAITERS - 1]!.token)?.at(-1)).toMatchObject({ position: WAITERS - 5 }), { timeout: 5_000 });
    await settle();
    expect(totals.mock.calls.length).toBeGreaterThanOrEqual(1);
    const batches = reads.mock.calls.length;
    // Each announced move re-reads the actives and the first NEAR_FRONT waiters: a batch per move, far below one per 500 waiters.
    expect(batches, `${batches} batched reads for ${totals.mock.calls.length} moves`).toBeLessThanOrEqual(totals.mock.calls.length * Math.ceil((NEAR_FRONT + 2 * CAPACITY) / 500));
    expect(reads.mock.calls.every(([, tokens]) => tokens.length <= NEAR_FRONT + 2 * CAPACITY)).toBe(true);
    reads.mockRestore();

    // Every far waiter's worked-out place is the exact one.
    const exact = (await t.services.queue.currentMany(eventId, views.map((view) => view.token))).views;
    views.forEach((view, i) => {
      const last = sent.get(view.token)?.at(-1) as QueueView | undefined;
      const truth = exact[i];
      if (!truth || truth.status !== 'WAITING') return;
      expect(last?.position, `waiter ${i}`).toBe(truth.position);
    });
  }, 120_000);
});

/** The token id is in the signed claims; the hub's callers only ever need it to end a turn. */
function tokenIdOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).tid;
}
