import type { SeatLocks } from './seat-locks.js';

const EVICTION_THRESHOLD = 10_000;

/**
 * The in-process seat locks for the embedded default; every method is atomic on Node's single thread.
 * One process is the whole fleet here, so its wall clock is the store's clock.
 */
export class MemorySeatLocks implements SeatLocks {
  readonly #locks = new Map<string, { owner: string; deadline: number; sold: boolean }>();
  // Sold markers outlive any eviction until their date ends: a map full of them must not be scanned on every acquire.
  #evictAbove = EVICTION_THRESHOLD;

  async acquire(key: string, owner: string, pinned: number | undefined, ttlMs: number): Promise<boolean> {
    const now = pinned ?? Date.now();
    const current = this.#locks.get(key);
    if (current && current.deadline > now) return false;
    this.#locks.set(key, { owner, deadline: now + ttlMs, sold: false });
    if (this.#locks.size > this.#evictAbove) {
      this.#evictExpired(now);
      this.#evictAbove = Math.max(EVICTION_THRESHOLD, 2 * this.#locks.size);
    }
    return true;
  }

  async isTaken(key: string, pinned: number | undefined): Promise<boolean> {
    const current = this.#locks.get(key);
    return current !== undefined && current.deadline > (pinned ?? Date.now());
  }

  async release(key: string, owner: string): Promise<void> {
    const current = this.#locks.get(key);
    if (current?.owner === owner && !current.sold) this.#locks.delete(key);
  }

  async markSold(key: string, owner: string, untilMs: number, pinned: number | undefined): Promise<boolean> {
    const now = pinned ?? Date.now();
    const current = this.#locks.get(key);
    if (current && current.deadline > now && (current.owner !== owner || current.sold)) return false;
    this.#locks.set(key, { owner, deadline: untilMs, sold: true });
    return true;
  }

  async reopen(key: string, owner: string): Promise<void> {
    const current = this.#locks.get(key);
    if (current?.owner === owner && current.sold) this.#locks.delete(key);
  }

  #evictExpired(now: number): void {
    for (const [key, lock] of this.#locks) if (lock.deadline <= now) this.#locks.delete(key);
  }
}
