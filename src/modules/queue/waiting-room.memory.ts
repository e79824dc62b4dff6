import { ADMISSION_LOG_LIMIT, type AdmissionPolicy, type AdmissionStep, type EntryRef, type JoinCandidate, type PrequeueEntry, type QueueState, soldOut, type QueueTicket, type WaitingRoom } from './waiting-room.js';

interface EventLine {
  seq: number;
  tickets: Map<string, QueueTicket>;
  /** userId → last seen; Map keeps insertion order, which is the line's order. */
  waiting: Map<string, number>;
  /** userId → last seen, in join order: joins before the opening, waiting for the draw. */
  prequeue: Map<string, number>;
  /** Until this time (epoch ms, the host's clock like the mark's expiry in Redis) the line is closed: sold out. */
  soldOutUntil: number;
  /** userId → idle deadline. */
  active: Map<string, number>;
  rate: { window: number; used: number };
  admitted: number[];
  admittedTotal: number;
  lastJoin: number;
}

/**
 * The in-process waiting room for the embedded default and single-instance use. Same semantics as the
 * Redis adapter (checked by the shared contract test); every method runs without awaiting in between,
 * so each step is atomic on Node's single thread.
 */
export class MemoryWaitingRoom implements WaitingRoom {
  readonly #lines = new Map<string, EventLine>();

  #line(eventId: string): EventLine {
    let line = this.#lines.get(eventId);
    if (!line) {
      line = { seq: 0, tickets: new Map(), waiting: new Map(), prequeue: new Map(), soldOutUntil: 0, active: new Map(), rate: { window: 0, used: 0 }, admitted: [], admittedTotal: 0, lastJoin: 0 };
      this.#lines.set(eventId, line);
    }
    return line;
  }

  async join({ ttlMs, opensAt, ...candidate }: JoinCandidate, pinned: number | undefined) {
    const now = pinned ?? Date.now();
    const line = this.#line(candidate.eventId);
    if (isClosed(line)) throw soldOut(candidate.eventId);
    const current = line.tickets.get(candidate.userId);
    if (current) {
      const deadline = line.active.get(candidate.userId);
      const live = (deadline !== undefined && deadline > now) || line.waiting.has(candidate.userId) || line.prequeue.has(candidate.userId);
      if (live && current.expiresAt > now) return { ticket: current, created: false };
      this.#forget(line, candidate.userId);
    }
    const ticket: QueueTicket = { ...candidate, seq: ++line.seq, issuedAt: now, expiresAt: now + ttlMs };
    line.lastJoin = Math.max(line.lastJoin, now);
    line.tickets.set(candidate.userId, ticket);
    (opensAt != null && now < opensAt ? line.prequeue : line.waiting).set(candidate.userId, now);
    return { ticket, created: true };
  }

  async touch(eventId: string, entries: readonly EntryRef[], pinned: number | undefined, policy: Pick<AdmissionPolicy, 'activeTtlMs'>): Promise<QueueState[]> {
    const now = pinned ?? Date.now();
    const line = this.#line(eventId);
    return entries.map(({ userId, tokenId }): QueueState => {
      if (line.tickets.get(userId)?.tokenId !== tokenId) return { status: 'EXPIRED' };
      const deadline = line.active.get(userId);
      if (deadline !== undefined) {
        if (deadline <= now) return { status: 'EXPIRED' };
        line.active.set(userId, Math.max(deadline, now + policy.activeTtlMs));
        return { status: 'ACTIVE' };
      }
      if (isClosed(line)) return { status: 'SOLD_OUT' };
      const place = line.waiting.has(userId) ? line.waiting : line.prequeue;
      const seen = place.get(userId);
      if (seen === undefined) return { status: 'EXPIRED' };
      place.set(userId, Math.max(seen, now));
      return { status: 'WAITING', position: place === line.waiting ? this.#positionOf(line, userId) : null };
    });
  }

  async admit(eventId: string, pinned: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    const now = pinned ?? Date.now();
    const line = this.#line(eventId);
    let dropped = 0;
    for (const [userId, deadline] of line.active) {
      if (deadline <= now) dropped += this.#forget(line, userId);
    }
    for (const waiters of [line.waiting, line.prequeue]) {
      for (const [userId, seen] of waiters) if (seen <= now - policy.waitingGraceMs) dropped += this.#forget(line, userId);
    }
    const held = { admitted: [], dropped, admittedTotal: line.admittedTotal, openingDue: false };
    if (policy.opensAt != null && now < policy.opensAt) return held;
    if (line.prequeue.size > 0) return { ...held, openingDue: true };
    if (policy.paused || isClosed(line)) return held;

    const window = Math.floor(now / 1000);
    const used = line.rate.window === window ? line.rate.used : 0;
    const room = Math.min(policy.maxActive - line.active.size, policy.admitPerSecond - used);
    const admitted: string[] = [];
    for (const userId of line.waiting.keys()) {
      if (admitted.length >= room) break;
      admitted.push(userId);
    }
    for (const userId of admitted) {
      line.waiting.delete(userId);
      line.active.set(userId, now + policy.activeTtlMs);
      line.admitted.push(line.tickets.get(userId)!.seq);
    }
    if (admitted.length > 0) {
      line.rate = { window, used: used + admitted.length };
      line.admittedTotal += admitted.length;
      if (line.admitted.length > ADMISSION_LOG_LIMIT) line.admitted.splice(0, line.admitted.length - ADMISSION_LOG_LIMIT);
    }
    return { admitted, dropped, admittedTotal: line.admittedTotal, openingDue: false };
  }

  async prequeue(eventId: string, opensAt: number, pinned: number | undefined): Promise<PrequeueEntry[] | undefined> {
    if ((pinned ?? Date.now()) < opensAt) return undefined;
    const line = this.#line(eventId);
    return [...line.prequeue.keys()].map((userId) => ({ userId, seq: line.tickets.get(userId)!.seq }));
  }

  async open(eventId: string, order: readonly number[]): Promise<boolean> {
    const line = this.#line(eventId);
    if (line.prequeue.size === 0) return false;
    const userOf = new Map([...line.prequeue.keys()].map((userId) => [line.tickets.get(userId)!.seq, userId]));
    const placed = new Map<string, number>();
    for (const seq of order) {
      const userId = userOf.get(seq);
      if (userId === undefined) continue;
      placed.set(userId, line.prequeue.get(userId)!);
      userOf.delete(seq);
    }
    // Anyone the order missed keeps their join order, still ahead of those who joined after the opening.
    for (const userId of userOf.values()) placed.set(userId, line.prequeue.get(userId)!);
    line.waiting = new Map([...placed, ...line.waiting]);
    line.prequeue.clear();
    return true;
  }

  async closeSoldOut(eventId: string, ttlMs: number): Promise<boolean> {
    const line = this.#line(eventId);
    const wasOpen = !isClosed(line);
    line.soldOutUntil = Date.now() + ttlMs;
    if (wasOpen) {
      // Waiters' tickets stay, as in Redis: they read SOLD_OUT while closed and EXPIRED after.
      line.waiting.clear();
      line.prequeue.clear();
    }
    return wasOpen;
  }

  async reopen(eventId: string): Promise<boolean> {
    const line = this.#line(eventId);
    const wasClosed = isClosed(line);
    line.soldOutUntil = 0;
    return wasClosed;
  }

  async complete(eventId: string, userId: string, tokenId: string): Promise<void> {
    const line = this.#line(eventId);
    if (line.tickets.get(userId)?.tokenId === tokenId) this.#forget(line, userId);
  }

  async events(since: number): Promise<string[]> {
    for (const [eventId, line] of this.#lines) if (line.lastJoin <= since) this.#lines.delete(eventId);
    return [...this.#lines.keys()];
  }

  async stats(eventId: string) {
    const line = this.#line(eventId);
    return { waiting: line.waiting.size + line.prequeue.size, active: line.active.size, admittedTotal: line.admittedTotal };
  }

  async admissionLog(eventId: string): Promise<number[]> {
    return [...this.#line(eventId).admitted];
  }

  async close(): Promise<void> {
    this.#lines.clear();
  }

  /** 1-based place among the waiters; a scan, which is fine at embedded scale. */
  #positionOf(line: EventLine, userId: string): number {
    let position = 1;
    for (const waiter of line.waiting.keys()) {
      if (waiter === userId) break;
      position++;
    }
    return position;
  }

  /** Removes the user's entry; returns 1 so callers can count drops. */
  #forget(line: EventLine, userId: string): 1 {
    line.tickets.delete(userId);
    line.waiting.delete(userId);
    line.prequeue.delete(userId);
    line.active.delete(userId);
    return 1;
  }
}

const isClosed = (line: EventLine) => line.soldOutUntil > Date.now();
