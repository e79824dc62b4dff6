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
}

export const seatLockKey = (scheduleId: string, seatNumber: number) => `seat:{${scheduleId}}:${seatNumber}`;

export class MemorySeatLocks implements SeatLocks {
  readonly #locks = new Map<string, { owner: string; deadline: number }>();

  async acquire(key: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const current = this.#locks.get(key);
    if (current && current.deadline > now) return false;
    this.#locks.set(key, { owner, deadline: now + ttlMs });
    if (this.#locks.size > 10_000) this.#evictExpired(now);
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    if (this.#locks.get(key)?.owner === owner) this.#locks.delete(key);
  }

  #evictExpired(now: number): void {
    for (const [key, lock] of this.#locks) if (lock.deadline <= now) this.#locks.delete(key);
  }
}
