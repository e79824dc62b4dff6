import type { Clock } from './clock.js';

/** One instance on its own (embedded): its wall clock is the only clock, and the stores decide with it anyway. */
export const systemClock: Clock = { now: () => new Date(), pinned: () => null };

/** Reads the shared clock once: the store's time in epoch milliseconds. */
export type ReadStoreTime = () => Promise<number>;

/** How often the offset to the store's clock is measured again; wall clocks drift slowly. */
const RESYNC_MS = 10_000;

/**
 * The stores' clock as seen from this instance: the wall clock plus the offset to the store's time,
 * measured at start-up and every few seconds (half the round trip is taken as the transit time). A host
 * whose clock is minutes off still reads the time the other instances read, to within a round trip.
 * Decisions still happen inside the stores; this is for what an instance must time on its own.
 */
export class SharedClock implements Clock {
  #offsetMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly readStoreTime: ReadStoreTime,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Measures the offset once (waiting for it), then keeps measuring in the background. */
  async start(): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), RESYNC_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async sync(): Promise<void> {
    try {
      const sent = Date.now();
      const storeTime = await this.readStoreTime();
      const received = Date.now();
      this.#offsetMs = storeTime - (sent + received) / 2;
    } catch (error) {
      // The last offset stays; wall clocks do not drift far in a few seconds.
      this.onError(error);
    }
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  pinned(): null {
    return null;
  }
}
