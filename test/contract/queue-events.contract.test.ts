import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { QueueEvents } from '../../src/modules/queue/queue-events.js';
import { openForSuite, queueEventsAdapters } from './adapters.js';

describe.each(queueEventsAdapters)('queue events contract: $name', (adapter) => {
  let instanceOn: (namespace: string) => QueueEvents;
  openForSuite(adapter, (port) => ({ instanceOn } = port));

  const newNamespace = () => `events-${randomUUID()}`;
  const newEvent = () => `event-${randomUUID()}`;

  /** The event ids a new listener on `events` hears, once `events` follows `eventId`. */
  const listen = async (events: QueueEvents, eventId: string) => {
    const heard: string[] = [];
    await events.subscribe((id) => heard.push(id));
    await events.follow(eventId);
    return heard;
  };

  /**
   * Publishes `eventId` once more through `publisher` and waits until `heard` has `count` entries. One
   * event's moves travel on one channel, so they arrive in publish order: once this last one is there,
   * everything published before it has arrived (or never will).
   */
  const barrier = async (publisher: QueueEvents, eventId: string, heard: string[], count: number) => {
    await publisher.publish(eventId);
    await vi.waitFor(() => expect(heard.length).toBeGreaterThanOrEqual(count), { timeout: 5_000, interval: 10 });
  };

  it('delivers a followed event to every subscriber of the instance, once each', async () => {
    const events = instanceOn(newNamespace());
    const eventId = newEvent();
    const [first, second] = [await listen(events, eventId), await listen(events, eventId)];
    await events.publish(eventId);
    await barrier(events, eventId, first, 2);
    await vi.waitFor(() => expect(second).toHaveLength(2));
    expect(first).toEqual([eventId, eventId]);
    expect(second).toEqual([eventId, eventId]);
  });

  it.runIf(adapter.spansInstances)('delivers to the subscribers of a second instance on the same key prefix', async () => {
    const namespace = newNamespace();
    const eventId = newEvent();
    const [publisher, peer] = [instanceOn(namespace), instanceOn(namespace)];
    const [heardByPublisher, heardByPeer] = [await listen(publisher, eventId), await listen(peer, eventId)];
    await publisher.publish(eventId);
    await barrier(peer, eventId, heardByPeer, 2);
    await vi.waitFor(() => expect(heardByPublisher).toHaveLength(2));
    expect(heardByPublisher).toEqual([eventId, eventId]);
    expect(heardByPeer).toEqual([eventId, eventId]);
  });

  it('delivers only the events an instance follows, and stops once it lets one go', async () => {
    const events = instanceOn(newNamespace());
    const [followed, other] = [newEvent(), newEvent()];
    const heard = await listen(events, followed);
    await events.publish(other);
    await barrier(events, followed, heard, 1);
    await events.unfollow(followed);
    await events.publish(followed);
    // Following `other` again gives a channel to wait on; `followed` was let go before it was published.
    await events.follow(other);
    await barrier(events, other, heard, 2);
    expect(heard).toEqual([followed, other]);
  });

  it('keeps what is published under one key prefix away from the subscribers of another', async () => {
    const [here, elsewhere] = [instanceOn(newNamespace()), instanceOn(newNamespace())];
    const eventId = newEvent();
    const heardElsewhere = await listen(elsewhere, eventId);
    await listen(here, eventId);
    await here.publish(eventId);
    // The same event id under the other prefix hashes to the same slot: on a cluster both channels are
    // on one shard, so the barrier comes after whatever `here` published.
    await barrier(elsewhere, eventId, heardElsewhere, 1);
    expect(heardElsewhere).toEqual([eventId]);
  });

  it('stops delivering to its subscribers once closed', async () => {
    const namespace = newNamespace();
    const eventId = newEvent();
    const events = instanceOn(namespace);
    const heard = await listen(events, eventId);
    await events.close();
    await events.publish(eventId);
    // A closed subscriber has no channel left to wait on: a live instance on the same prefix hearing a
    // later move of the same event shows that Redis has sent out the first. In process, publish
    // delivers before it returns.
    if (adapter.spansInstances) {
      const live = instanceOn(namespace);
      const heardLive = await listen(live, eventId);
      await barrier(live, eventId, heardLive, 1);
    }
    expect(heard).toEqual([]);
  });
});
