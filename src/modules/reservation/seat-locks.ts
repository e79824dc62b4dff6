/**
 * Fail-fast seat locks, in front of PostgreSQL. A lock is advisory: losing one (Redis restart, eviction)
 * only sends more requests to the database, which still decides. The deadline is kept in the lock's
 * value on the lock store's clock (Redis `TIME`), so every instance agrees when a lock lapses. `now` is
 * a test clock's pinned time, or undefined for the store's own clock.
 * Adapters: Redis (seat-locks.redis.ts) and in-process (seat-locks.memory.ts);
 * test/contract/seat-locks.contract.test.ts runs the same checks against both.
 */
export interface SeatLocks {
  /** Takes the lock unless someone else holds it with a deadline after `now`. */
  acquire(key: string, owner: string, now: number | undefined, ttlMs: number): Promise<boolean>;
  /** Whether an acquire at `now` would be refused (a live lock or a sold marker), changing nothing: the fast path's question. */
  isTaken(key: string, now: number | undefined): Promise<boolean>;
  /** Releases the lock only if `owner` still holds it. */
  release(key: string, owner: string): Promise<void>;
  /**
   * Turns the owner's lock into a sold marker that refuses every acquire until `untilMs` (the date's
   * end) and that no release removes. Refused (false) while someone else holds a live lock; a lock
   * that is gone or lapsed is held by nobody, so the marker is set then too.
   */
  markSold(key: string, owner: string, untilMs: number, now: number | undefined): Promise<boolean>;
  /** Removes the owner's sold marker (the purchase was refunded), so the seat can be held again. */
  reopen(key: string, owner: string): Promise<void>;
}

export const seatLockKey = (scheduleId: string, seatNumber: number) => `seat:{${scheduleId}}:${seatNumber}`;
