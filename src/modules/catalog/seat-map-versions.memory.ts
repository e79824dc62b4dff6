import { randomBytes } from 'node:crypto';
import { LocalChannels } from '../../shared/local-channels.js';
import type { SeatMapVersions } from './seat-map-versions.js';

/** The embedded default: one process is the whole fleet, so a map of counters is the shared store. */
export class MemorySeatMapVersions implements SeatMapVersions {
  // A process of its own starts a new epoch: nothing cached under another process's versions can match.
  readonly #epoch = randomBytes(6).toString('base64url');
  readonly #counters = new Map<string, number>();
  readonly #channels = new LocalChannels<undefined>();

  async current(scheduleId: string): Promise<string> {
    return `${this.#epoch}.${this.#counters.get(scheduleId) ?? 0}`;
  }

  async bump(scheduleId: string): Promise<string> {
    const counter = (this.#counters.get(scheduleId) ?? 0) + 1;
    this.#counters.set(scheduleId, counter);
    this.#channels.publish(scheduleId, undefined);
    return `${this.#epoch}.${counter}`;
  }

  async subscribe(listener: (scheduleId: string) => void): Promise<void> {
    this.#channels.subscribe((scheduleId) => listener(scheduleId));
  }

  async follow(scheduleId: string): Promise<void> {
    this.#channels.follow(scheduleId);
  }

  async unfollow(scheduleId: string): Promise<void> {
    this.#channels.unfollow(scheduleId);
  }

  async close(): Promise<void> {
    this.#channels.close();
  }
}
