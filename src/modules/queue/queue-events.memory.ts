import { EventEmitter } from 'node:events';
import type { LineChange, QueueEvents } from './queue-events.js';

/** Reaches this process's subscribers only, which is all the embedded single instance needs. */
export class MemoryQueueEvents implements QueueEvents {
  readonly #emitter = new EventEmitter();
  readonly #followed = new Set<string>();

  async publish(eventId: string, change: LineChange = 'line'): Promise<void> {
    if (this.#followed.has(eventId)) this.#emitter.emit('moved', eventId, change);
  }

  async subscribe(listener: (eventId: string, change: LineChange) => void): Promise<void> {
    this.#emitter.on('moved', listener);
  }

  async follow(eventId: string): Promise<void> {
    this.#followed.add(eventId);
  }

  async unfollow(eventId: string): Promise<void> {
    this.#followed.delete(eventId);
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
    this.#followed.clear();
  }
}
