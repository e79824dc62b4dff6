/**
 * "The line for this event moved": someone was admitted or dropped, so positions and statuses may have
 * changed. Instances publish it after admission steps; every instance refreshes its own stream clients.
 * An instance hears only the events it follows (those it has stream clients for): on Redis each event
 * has a channel of its own, which on a cluster lives on the shard that holds the event's line.
 * Adapters: Redis sharded pub/sub (queue-events.redis.ts, reaches every instance) and an in-process
 * emitter (queue-events.memory.ts, one instance); test/contract/queue-events.contract.test.ts checks both.
 */
export interface QueueEvents {
  publish(eventId: string, change?: LineChange): Promise<void>;
  /** Adds a listener for the moves of every followed event. */
  subscribe(listener: (eventId: string, change: LineChange) => void): Promise<void>;
  /**
   * Starts hearing this event's moves; resolves once moves published from then on are delivered. It
   * never rejects: an instance that cannot subscribe yet keeps trying, and its heartbeat covers the gap.
   */
  follow(eventId: string): Promise<void>;
  unfollow(eventId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * What moved. `head`: people left the line from the front (admitted) or dropped out of it, so a
 * waiter's place can be worked out from the line's admitted-total alone, and only places near the front
 * need reading. `line`: anything else (an opening placed, the line closed or reopened, its settings
 * changed): every holder's view is read again.
 */
export type LineChange = 'head' | 'line';

export const encodeChange = (eventId: string, change: LineChange) => (change === 'line' ? eventId : `${eventId} head`);
export const decodeChange = (message: string): { eventId: string; change: LineChange } => {
  const [eventId, head] = message.split(' ');
  return { eventId: eventId!, change: head === 'head' ? 'head' : 'line' };
};
