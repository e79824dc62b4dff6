/**
 * "The line for this event moved": someone was admitted or dropped, so positions and statuses may have
 * changed. Instances publish it after admission steps; every instance refreshes its own stream clients.
 * Adapters: Redis pub/sub (queue-events.redis.ts, reaches every instance) and an in-process emitter
 * (queue-events.memory.ts, one instance); test/contract/queue-events.contract.test.ts checks both.
 */
export interface QueueEvents {
  publish(eventId: string): Promise<void>;
  subscribe(listener: (eventId: string) => void): Promise<void>;
  close(): Promise<void>;
}
