import { ADMISSION_LOG_LIMIT, type AdmissionPolicy, type AdmissionStep, type EntryRef, type JoinCandidate, type JoinOutcome, joinLimited, type PrequeueEntry, type QueueState, soldOut, type QueueTicket, type WaitingRoom } from './waiting-room.js';

interface EventLine {
  seq: number;
  tickets: Map<string, QueueTicket>;
  /** userId → last seen; Map keeps insertion order, which is the line's order. The silent leave at its head. */
  waiting: Map<string, number>;
  /** userId → last seen, in join order: joins before the opening, waiting for the draw. */
  prequeue: Map<string, number>;
  /** Joins per user in the current window, for the per-line join limit. */
  joins: Map<string, { count: number; resetAt: number }>;
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
      line = { seq: 0, tickets: new Map(), waiting: new Map(), prequeue: new Map(), joins: new Map(), soldOutUntil: 0, active: new Map(), rate: { window: 0, used: 0 }, admitted: [], admittedTotal: 0, lastJoin: 0 };
      this.#lines.set(eventId, line);
    }
    return line;
  }

  async join({ ttlMs, opensAt, limit, ...candidate }: JoinCandidate, pinned: number | undefined, policy?: AdmissionPolicy): Promise<JoinOutcome> {
    const now = pinned ?? Date.now();
    const line = this.#line(candidate.eventId);
    if (limit) this.#countJoin(line, candidate.userId, limit, now);
    if (isClosed(line)) throw soldOut(candidate.eventId);
    const current = line.tickets.get(candidate.userId);
    if (current) {
      const deadline = line.active.get(candidate.userId);
      const live = (deadline !== undefined && deadline > now) || line.waiting.has(candidate.userId) || line.prequeue.has(candidate.userId);
      if (live && current.expiresAt > now) {
        const [state] = await this.touch(candidate.eventId, [{ userId: candidate.userId, tokenId: current.tokenId }], pinned, policy ?? { activeTtlMs: 0 });
        return { ticket: current, created: false, state: state! };
      }
      this.#forget(line, candidate.userId);
    }
    const ticket: QueueTicket = { ...candidate, seq: ++line.seq, issuedAt: now, expiresAt: now + ttlMs };
    line.lastJoin = Math.max(line.lastJoin, now);
    line.tickets.set(candidate.userId, ticket);
    (opensAt != null && now < opensAt ? line.prequeue : line.waiting).set(candidate.userId, now);
    const step = policy ? await this.admit(candidate.eventId, pinned, policy) : undefined;
    return { ticket, created: true, state: this.#stateOf(line, candidate.userId), ...(step ? { step } : {}) };
  }

  /** The joiner's state as it stands, without counting it as activity (the join just did). */
  #stateOf(line: EventLine, userId: string): QueueState {
    if (line.active.has(userId)) return { status: 'ACTIVE' };
    if (line.waiting.has(userId)) return { status: 'WAITING', position: this.#positionOf(line, userId) };
    return { status: 'WAITING', position: null };
  }

  /** A fixed window per user and line, like the Redis adapter's counter with its expiry. */
  #countJoin(line: EventLine, userId: string, limit: { max: number; windowMs: number }, now: number): void {
    const counter = line.joins.get(userId);
    const live = counter && counter.resetAt > now ? counter : { count: 0, resetAt: now + limit.windowMs };
    live.count++;
    line.joins.set(userId, live);
    if (live.count > limit.max) throw joinLimited(live.resetAt - now, limit.max);
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
    for (const [userId, counter] of line.joins) if (counter.resetAt <= now) line.joins.delete(userId);
    const held = { admitted: [], dropped, admittedTotal: line.admittedTotal, openingDue: false };
    if (policy.opensAt != null && now < policy.opensAt) return held;
    if (line.prequeue.size > 0) return { ...held, openingDue: true };
    if (isClosed(line)) return held;

    const window = Math.floor(now / 1000);
    const used = line.rate.window === window ? line.rate.used : 0;
    const room = policy.paused ? 0 : Math.min(policy.maxActive - line.active.size, policy.admitPerSecond - used);
    // The head in its order; waiters who stopped polling leave when they reach it, as in Redis.
    const admitted: string[] = [];
    for (const [userId, seen] of line.waiting) {
      if (seen <= now - policy.waitingGraceMs) dropped += this.#forget(line, userId);
      else if (admitted.length < room) admitted.push(userId);
      else break;
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

  async completeAndAdmit(eventId: string, entry: EntryRef, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    await this.complete(eventId, entry.userId, entry.tokenId);
    return this.admit(eventId, now, policy);
  }

  async events(since: number): Promise<string[]> {
    for (const [eventId, line] of this.#lines) if (line.lastJoin <= since) this.#lines.delete(eventId);
    return [...this.#lines.keys()];
  }

  async stats(eventId: string) {
    const line = this.#line(eventId);
    return { waiting: line.waiting.size + line.prequeue.size, active: line.active.size, admittedTotal: line.admittedTotal };
  }

  async admittedTotal(eventId: string): Promise<number> {
    return this.#line(eventId).admittedTotal;
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
