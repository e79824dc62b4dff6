import { ADMISSION_LOG_LIMIT, type AdmissionPolicy, type AdmissionStep, type EntryRef, type JoinCandidate, type QueueState, type QueueTicket, type WaitingRoom } from './waiting-room.js';

interface EventLine {
  seq: number;
  tickets: Map<string, QueueTicket>;
  /** userId → last seen; Map keeps insertion order, which is join order. */
  waiting: Map<string, number>;
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
      line = { seq: 0, tickets: new Map(), waiting: new Map(), active: new Map(), rate: { window: 0, used: 0 }, admitted: [], admittedTotal: 0, lastJoin: 0 };
      this.#lines.set(eventId, line);
    }
    return line;
  }

  async join({ ttlMs, ...candidate }: JoinCandidate, pinned: number | undefined) {
    const now = pinned ?? Date.now();
    const line = this.#line(candidate.eventId);
    const current = line.tickets.get(candidate.userId);
    if (current) {
      const deadline = line.active.get(candidate.userId);
      const live = (deadline !== undefined && deadline > now) || line.waiting.has(candidate.userId);
      if (live && current.expiresAt > now) return { ticket: current, created: false };
      this.#forget(line, candidate.userId);
    }
    const ticket: QueueTicket = { ...candidate, seq: ++line.seq, issuedAt: now, expiresAt: now + ttlMs };
    line.lastJoin = Math.max(line.lastJoin, now);
    line.tickets.set(candidate.userId, ticket);
    line.waiting.set(candidate.userId, now);
    return { ticket, created: true };
  }

  async touch(eventId: string, entries: readonly EntryRef[], pinned: number | undefined, policy: AdmissionPolicy): Promise<QueueState[]> {
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
      const seen = line.waiting.get(userId);
      if (seen === undefined) return { status: 'EXPIRED' };
      line.waiting.set(userId, Math.max(seen, now));
      return { status: 'WAITING', position: this.#positionOf(line, userId) };
    });
  }

  async admit(eventId: string, pinned: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    const now = pinned ?? Date.now();
    const line = this.#line(eventId);
    let dropped = 0;
    for (const [userId, deadline] of line.active) {
      if (deadline <= now) dropped += this.#forget(line, userId);
    }
    for (const [userId, seen] of line.waiting) {
      if (seen <= now - policy.waitingGraceMs) dropped += this.#forget(line, userId);
    }

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
    return { admitted, dropped, admittedTotal: line.admittedTotal };
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
    return { waiting: line.waiting.size, active: line.active.size, admittedTotal: line.admittedTotal };
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
    line.active.delete(userId);
    return 1;
  }
}
