import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { QueueEvents } from '../../src/modules/queue/queue-events.js';
import { openForSuite, queueEventsAdapters } from './adapters.js';

const PROBE = 'probe:';

describe.each(queueEventsAdapters)('queue events contract: $name', (adapter) => {
  let instanceOn: (namespace: string) => QueueEvents;
  openForSuite(adapter, (port) => ({ instanceOn } = port));

  const newNamespace = () => `events-${randomUUID()}`;

  /** The event ids a new listener on `events` hears, probes left out. */
  const listen = async (events: QueueEvents) => {
    const heard: string[] = [];
    await events.subscribe((eventId) => {
      if (!eventId.startsWith(PROBE)) heard.push(eventId);
    });
    return heard;
  };

  /**
   * Publishes a probe through `publisher` until `subscriber` hears it. Redis subscribes in the
   * background, so this is how a test knows the subscription is live; and a subscriber hears its
   * channel in publish order, so once the probe is back, whatever was published before it has arrived.
   */
  const untilHeard = async (subscriber: QueueEvents, publisher: QueueEvents) => {
    const probe = `${PROBE}${randomUUID()}`;
    let heard = false;
    await subscriber.subscribe((eventId) => {
      if (eventId === probe) heard = true;
    });
    await vi.waitFor(
      async () => {
        await publisher.publish(probe);
        expect(heard).toBe(true);
      },
      { timeout: 5_000, interval: 25 },
    );
  };

  it('delivers a published event to every subscriber of the instance, once each', async () => {
    const events = instanceOn(newNamespace());
    const [first, second] = [await listen(events), await listen(events)];
    await untilHeard(events, events);
    await events.publish('event-1');
    await untilHeard(events, events);
    expect(first).toEqual(['event-1']);
    expect(second).toEqual(['event-1']);
  });

  it.runIf(adapter.spansInstances)('delivers to the subscribers of a second instance on the same key prefix', async () => {
    const namespace = newNamespace();
    const [publisher, peer] = [instanceOn(namespace), instanceOn(namespace)];
    const [heardByPublisher, heardByPeer] = [await listen(publisher), await listen(peer)];
    await untilHeard(publisher, publisher);
    await untilHeard(peer, publisher);
    await publisher.publish('event-2');
    await untilHeard(publisher, publisher);
    await untilHeard(peer, publisher);
    expect(heardByPublisher).toEqual(['event-2']);
    expect(heardByPeer).toEqual(['event-2']);
  });

  it('keeps what is published under one key prefix away from the subscribers of another', async () => {
    const [here, elsewhere] = [instanceOn(newNamespace()), instanceOn(newNamespace())];
    const heardElsewhere = await listen(elsewhere);
    await untilHeard(elsewhere, elsewhere);
    await here.publish('event-3');
    await untilHeard(elsewhere, elsewhere);
    expect(heardElsewhere).toEqual([]);
  });

  it('stops delivering to its subscribers once closed', async () => {
    const namespace = newNamespace();
    const events = instanceOn(namespace);
    const heard = await listen(events);
    await untilHeard(events, events);
    await events.close();
    await events.publish('event-4');
    // A closed subscriber has no channel left to wait on: a live instance on the same prefix hearing a
    // later probe shows that Redis has sent out the event. In process, publish delivers before it returns.
    if (adapter.spansInstances) await untilHeard(instanceOn(namespace), events);
    expect(heard).toEqual([]);
  });
});
