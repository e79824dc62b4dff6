import { randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.js';

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
  /**
   * The scheduled opening (epoch ms), or null for a line that is simply open. A join before it goes to
   * the pre-queue, which is shuffled at the opening; the store decides "before" by its own clock.
   */
  opensAt?: number | null;
  /** At most `max` joins of this line by this user per `windowMs`, counted in the same call (RATE_LIMITED past it). */
  limit?: { max: number; windowMs: number };
}

/** What a join did: the ticket, the joiner's state after it, and the admission step a new entry ran. */
export interface JoinOutcome {
  ticket: QueueTicket;
  created: boolean;
  state: QueueState;
  /** The admission step run with the join (only for a new entry, and only when a policy was given). */
  step?: AdmissionStep;
}

/** A token's claim on a place in line. */
export interface EntryRef {
  userId: string;
  tokenId: string;
}

export type QueueState =
  | { status: 'ACTIVE' }
  /** `position` is null in the pre-queue: places are drawn at the opening. */
  | { status: 'WAITING'; position: number | null }
  | { status: 'SOLD_OUT' }
  | { status: 'EXPIRED' };

export interface AdmissionPolicy {
  maxActive: number;
  admitPerSecond: number;
  activeTtlMs: number;
  waitingGraceMs: number;
  /** The operator paused admissions: nobody is admitted, the line stays as it is. */
  paused?: boolean;
  /** The scheduled opening (epoch ms) or null; nobody is admitted before it. */
  opensAt?: number | null;
}

export interface QueueStats {
  /** Waiters in line, the pre-queue included. */
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
  /** A pre-queue is waiting to be placed: the opening is due and nobody is admitted until it is. */
  openingDue: boolean;
}

/** A pre-queue entry: who, and the join sequence number the fairness draw orders by. */
export interface PrequeueEntry {
  userId: string;
  seq: number;
}

export interface WaitingRoom {
  /**
   * Enqueues the user, or returns their live ticket when they already hold one for this event (counting
   * as their activity), and with a policy runs the admission step a new entry triggers, all at once: a
   * join is one round trip. Throws EVENT_SOLD_OUT while the line is closed because every seat is sold,
   * and RATE_LIMITED past the candidate's limit.
   */
  join(candidate: JoinCandidate, now: number | undefined, policy?: AdmissionPolicy): Promise<JoinOutcome>;
  /**
   * The state of each entry named by a token, counting the call as activity: an active entry's idle
   * deadline moves to now + activeTtl, a waiting entry's last-seen becomes now. A token that is no longer
   * the user's live ticket is EXPIRED. Takes many at once so one round trip refreshes a whole stream hub.
   */
  touch(eventId: string, entries: readonly EntryRef[], now: number | undefined, policy: Pick<AdmissionPolicy, 'activeTtlMs'>): Promise<QueueState[]>;
  /**
   * One atomic admission step: drops idle actives and abandoned waiters, then admits the head of the line
   * within capacity and the per-second rate.
   */
  admit(eventId: string, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep>;
  /**
   * The pre-queue as it stands once the opening has come by the store's clock (`opensAt` ≤ now), when
   * no join can enter it any more; undefined before then. Empty once it has been placed.
   */
  prequeue(eventId: string, opensAt: number, now: number | undefined): Promise<PrequeueEntry[] | undefined>;
  /**
   * Places the pre-queue at the head of the line in `order` (join sequence numbers), positions 1..n,
   * ahead of everyone who joined after the opening. Once only: false when there was nothing to place.
   */
  open(eventId: string, order: readonly number[]): Promise<boolean>;
  /**
   * Closes the line because every seat is sold, in O(1): joins are refused and waiters read SOLD_OUT
   * until `reopen`. The mark lapses after `ttlMs` unless renewed, so a line nobody tends reopens by
   * itself. True when it was open before.
   */
  closeSoldOut(eventId: string, ttlMs: number): Promise<boolean>;
  /** Lifts the sold-out mark (a refund or a lapsed hold freed a seat); true when there was one. */
  reopen(eventId: string): Promise<boolean>;
  /** Ends the user's entry (after a purchase): the token expires and the slot frees. */
  complete(eventId: string, userId: string, tokenId: string): Promise<void>;
  /** `complete`, then an admission step, as one atomic call: the freed slot goes to the next in line at once. */
  completeAndAdmit(eventId: string, entry: EntryRef, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep>;
  /**
   * Events someone joined after `since` (epoch ms), for the admission scheduler and metrics. Events
   * with no join since then are forgotten: every ticket they issued has expired.
   */
  events(since: number): Promise<string[]>;
  stats(eventId: string): Promise<QueueStats>;
  /** Everyone ever admitted to this event's line: every waiter has moved up by each admission since. */
  admittedTotal(eventId: string): Promise<number>;
  /** Join sequence numbers in the order they were admitted (most recent 100,000), for FIFO checks. */
  admissionLog(eventId: string): Promise<number[]>;
  close(): Promise<void>;
}

export const ADMISSION_LOG_LIMIT = 100_000;

const TOKEN_ID_BYTES = 9;
/** Ids drawn per call to the random source: one call per join cost 3% of a busy instance's join CPU (as randomUUID, which pools too). */
const TOKEN_IDS_PER_DRAW = 1024;
let randomPool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * A new ticket's id: 72 random bits in 12 characters. It only has to tell a user's tickets apart (the
 * token that carries it is signed), and the line stores one per waiter, so it is kept short.
 */
export function newTokenId(): string {
  if (poolOffset === randomPool.length) {
    randomPool = randomBytes(TOKEN_ID_BYTES * TOKEN_IDS_PER_DRAW);
    poolOffset = 0;
  }
  poolOffset += TOKEN_ID_BYTES;
  return randomPool.toString('base64url', poolOffset - TOKEN_ID_BYTES, poolOffset);
}

export const joinLimited = (retryAfterMs: number, limit: number) =>
  new AppError('RATE_LIMITED', `Too many joins of this line; try again in ${Math.ceil(retryAfterMs / 1000)} s.`, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    limit,
  });

export const soldOut = (eventId: string) => new AppError('EVENT_SOLD_OUT', `Every seat of event ${eventId} is sold.`);
