/**
 * Fail-fast seat locks, in front of PostgreSQL. A lock is advisory: losing one (Redis restart, eviction)
 * only sends more requests to the database, which still decides. The deadline is kept in the lock's
 * value on the service clock, so a hold and its lock expire at the same instant.
 */
export interface SeatLocks {
  /** Takes the lock unless someone else holds it with a deadline after `now`. */
  acquire(key: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Releases the lock only if `owner` still holds it. */
  release(key: string, owner: string): Promise<void>;
  /**
   * Turns the owner's lock into a sold marker that refuses every acquire until `untilMs` (the date's
   * end) and that no release removes. Refused (false) while someone else holds a live lock; a lock
   * that is gone or lapsed is held by nobody, so the marker is set then too.
   */
  markSold(key: string, owner: string, untilMs: number, now: number): Promise<boolean>;
}

export const seatLockKey = (scheduleId: string, seatNumber: number) => `seat:{${scheduleId}}:${seatNumber}`;

const EVICTION_THRESHOLD = 10_000;

export class MemorySeatLocks implements SeatLocks {
  readonly #locks = new Map<string, { owner: string; deadline: number; sold: boolean }>();
  // Sold markers outlive any eviction until their date ends: a map full of them must not be scanned on every acquire.
  #evictAbove = EVICTION_THRESHOLD;

  async acquire(key: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const current = this.#locks.get(key);
    if (current && current.deadline > now) return false;
    this.#locks.set(key, { owner, deadline: now + ttlMs, sold: false });
    if (this.#locks.size > this.#evictAbove) {
      this.#evictExpired(now);
      this.#evictAbove = Math.max(EVICTION_THRESHOLD, 2 * this.#locks.size);
    }
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    const current = this.#locks.get(key);
    if (current?.owner === owner && !current.sold) this.#locks.delete(key);
  }

  async markSold(key: string, owner: string, untilMs: number, now: number): Promise<boolean> {
    const current = this.#locks.get(key);
    if (current && current.deadline > now && (current.owner !== owner || current.sold)) return false;
    this.#locks.set(key, { owner, deadline: untilMs, sold: true });
    return true;
  }

  #evictExpired(now: number): void {
    for (const [key, lock] of this.#locks) if (lock.deadline <= now) this.#locks.delete(key);
  }
}
