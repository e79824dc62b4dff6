/**
 * The waiting room port. One entry per (event, user); its ticket is what the signed queue token carries.
 * Adapters: Redis (waiting-room.redis.ts; production, every step one Lua script, so instances never
 * disagree) and in-process (waiting-room.memory.ts; embedded default).
 * test/contract/waiting-room.contract.test.ts runs the same checks against both.
 */
export interface QueueTicket {
  tokenId: string;
  userId: string;
  eventId: string;
  /** Join order within the event: 1, 2, 3, … */
  seq: number;
  issuedAt: number;
  expiresAt: number;
}

/** Who joins, and how long their ticket lives; the store stamps its issue time on its own clock. */
export interface JoinCandidate {
  tokenId: string;
  userId: string;
  eventId: string;
  ttlMs: number;
}

/** A token's claim on a place in line. */
export interface EntryRef {
  userId: string;
  tokenId: string;
}

export type QueueState =
  | { status: 'ACTIVE' }
  | { status: 'WAITING'; position: number }
  | { status: 'EXPIRED' };

export interface AdmissionPolicy {
  maxActive: number;
  admitPerSecond: number;
  activeTtlMs: number;
  waitingGraceMs: number;
}

export interface QueueStats {
  waiting: number;
  active: number;
  /** Everyone ever admitted to this event's line; its growth over time is the admission rate. */
  admittedTotal: number;
}

export interface AdmissionStep {
  /** User ids admitted, in queue order. */
  admitted: string[];
  /** Entries dropped: actives idle past their TTL and waiters who stopped polling. */
  dropped: number;
  /** The event's admitted-total after this step, for the admission-rate meter. */
  admittedTotal: number;
}

export interface WaitingRoom {
  /** Enqueues the user, or returns their live ticket when they already hold one for this event. */
  join(candidate: JoinCandidate, now: number | undefined): Promise<{ ticket: QueueTicket; created: boolean }>;
  /**
   * The state of each entry named by a token, counting the call as activity: an active entry's idle
   * deadline moves to now + activeTtl, a waiting entry's last-seen becomes now. A token that is no longer
   * the user's live ticket is EXPIRED. Takes many at once so one round trip refreshes a whole stream hub.
   */
  touch(eventId: string, entries: readonly EntryRef[], now: number | undefined, policy: AdmissionPolicy): Promise<QueueState[]>;
  /**
   * One atomic admission step: drops idle actives and abandoned waiters, then admits the head of the line
   * within capacity and the per-second rate.
   */
  admit(eventId: string, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep>;
  /** Ends the user's entry (after a purchase): the token expires and the slot frees. */
  complete(eventId: string, userId: string, tokenId: string): Promise<void>;
  /**
   * Events someone joined after `since` (epoch ms), for the admission scheduler and metrics. Events
   * with no join since then are forgotten: every ticket they issued has expired.
   */
  events(since: number): Promise<string[]>;
  stats(eventId: string): Promise<QueueStats>;
  /** Join sequence numbers in the order they were admitted (most recent 100,000), for FIFO checks. */
  admissionLog(eventId: string): Promise<number[]>;
  close(): Promise<void>;
}

export const ADMISSION_LOG_LIMIT = 100_000;
