import { LocalChannels } from '../../shared/local-channels.js';
import type { LineChange, QueueEvents } from './queue-events.js';

/** Reaches this process's subscribers only, which is all the embedded single instance needs. */
export class MemoryQueueEvents implements QueueEvents {
  readonly #channels = new LocalChannels<LineChange>();

  async publish(eventId: string, change: LineChange = 'line'): Promise<void> {
    this.#channels.publish(eventId, change);
  }

  async subscribe(listener: (eventId: string, change: LineChange) => void): Promise<void> {
    this.#channels.subscribe(listener);
  }

  async follow(eventId: string): Promise<void> {
    this.#channels.follow(eventId);
  }

  async unfollow(eventId: string): Promise<void> {
    this.#channels.unfollow(eventId);
  }

  async close(): Promise<void> {
    this.#channels.close();
  }
}
