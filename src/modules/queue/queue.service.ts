import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { TokenSigner } from '../../shared/signed-token.js';
import { AdmissionRateMeter, estimateWaitSeconds } from './admission-rate.js';
import type { Buyer } from './buyer.js';
import type { LineChange, QueueEvents } from './queue-events.js';
import type { QueueView } from './queue.schemas.js';
import { newTokenId, soldOut } from './waiting-room.js';
import { policyOf, type LineSettings, type LineSettingsSource } from './line-settings.js';
import { claimsOf, refOf, seatsLeftShown, viewOf, type LineMoment, type QueueTokenClaims, type SignedClaims } from './queue-token.js';
import type { AdmissionPolicy, AdmissionStep, EntryRef, QueueStats, WaitingRoom } from './waiting-room.js';

export interface QueueDeps {
  room: WaitingRoom;
  events: QueueEvents;
  signer: TokenSigner;
  clock: Clock;
  /** How long entries live; capacity, rate, pause and opening come per event from `settings`. */
  lifetimes: Pick<AdmissionPolicy, 'activeTtlMs' | 'waitingGraceMs'>;
  settings: LineSettingsSource;
  tokenTtlMs: number;
  /** Joins of one line by one user per window (RATE_LIMIT_QUEUE_JOINS_PER_MINUTE), counted by the join itself. */
  joinLimit?: { max: number; windowMs: number };
  /** Throws NOT_FOUND unless the event exists and is on sale. */
  ensureEventOpen: (eventId: string) => Promise<void>;
  log: Logger;
}

const expired = () => new AppError('QUEUE_TOKEN_EXPIRED', 'The queue token has expired; join the queue again.');

export class QueueService {
  readonly #rate = new AdmissionRateMeter();

  constructor(private readonly deps: QueueDeps) {}

  /**
   * Puts the user in line for the event, or hands back their live token: one per (user, event). One
   * waiting-room round trip counts the join against the user's limit, enqueues, runs the admission step
   * the newcomer triggers (with room to spare they need not wait for the next tick) and reads the
   * joiner's place; the line is announced only when the step moved someone else.
   */
  async join(userId: string, eventId: string): Promise<QueueView> {
    const { room, tokenTtlMs, lifetimes } = this.deps;
    await this.deps.ensureEventOpen(eventId);
    const settings = await this.deps.settings.settingsOf(eventId);
    const policy = policyOf(lifetimes, settings);
    const { ticket, state, step } = await room.join(
      { tokenId: newTokenId(), userId, eventId, ttlMs: tokenTtlMs, opensAt: settings.opensAt, limit: this.deps.joinLimit },
      this.#pinned(),
      policy,
    );
    if (step) await this.#afterStep(eventId, step, userId);
    if (state.status === 'EXPIRED') throw expired();
    const claims = claimsOf(ticket);
    return viewOf({ claims, token: this.deps.signer.sign(claims) }, state, this.#moment(eventId, settings, policy));
  }

  /** Position, status and ETA for a token; QUEUE_TOKEN_EXPIRED once it no longer holds a place. */
  async current(token: string | undefined): Promise<QueueView> {
    return this.#viewOrExpired({ claims: this.#verify(token), token: token! });
  }

  /**
   * Views for many tokens of one event in one queue-store round trip (the stream hub's refresh);
   * undefined where a token no longer holds a place. Counts as each holder's poll. `admittedTotal` is
   * read right after the views (same connection, so in order): a place worked out from it later can
   * only be too far back, never too far ahead.
   */
  async currentMany(eventId: string, tokens: readonly string[]): Promise<{ views: (QueueView | undefined)[]; admittedTotal: number }> {
    const now = this.deps.clock.now().getTime();
    const live = tokens.flatMap((token, index) => {
      const claims = this.#verifiedOrUndefined(token, now);
      return claims?.eid === eventId ? [{ claims, token, index }] : [];
    });
    const [rendered, admittedTotal] = await Promise.all([this.#views(eventId, live), this.deps.room.admittedTotal(eventId)]);
    const views: (QueueView | undefined)[] = new Array(tokens.length).fill(undefined);
    live.forEach(({ index }, k) => (views[index] = rendered[k]));
    return { views, admittedTotal };
  }

  /** The line's admitted total: how far every waiter has moved up since a view was read. */
  admittedTotal(eventId: string): Promise<number> {
    return this.deps.room.admittedTotal(eventId);
  }

  /**
   * Views moved to a place worked out without the store (a waiter's last exact place less the
   * admissions since), with the line's current settings and ETA. Nothing is verified or touched: each
   * `view` came from a verified token, and the holder's presence is kept by the stream's heartbeat.
   */
  async movedViews(eventId: string, moves: readonly { view: QueueView; position: number }[]): Promise<QueueView[]> {
    const { settings, policy, ratePerSecond } = this.#moment(eventId, await this.deps.settings.settingsOf(eventId));
    return moves.map(({ view, position }) => ({
      ...view,
      position,
      etaSeconds: estimateWaitSeconds(position, ratePerSecond, policy),
      paused: settings.paused,
      seatsLeft: seatsLeftShown(settings),
    }));
  }

  /**
   * The guard every buying endpoint runs: the token must be genuine, unexpired, the caller's own and
   * admitted. The call counts as activity and keeps the slot alive.
   */
  async authorize(token: string | undefined, userId: string): Promise<Buyer> {
    return this.#admitted(this.#verifyOwn(token, userId));
  }

  /** The user a genuine queue token was issued to, expired or not (to key rate limits); else undefined. */
  userOf(token: string | undefined): string | undefined {
    return token ? this.deps.signer.verify<QueueTokenClaims>(token, 'queue')?.uid : undefined;
  }

  /** The guard for reads that need no identity beyond the token itself (the seat map). */
  async authorizeToken(token: string | undefined): Promise<Buyer> {
    return this.#admitted(this.#verify(token));
  }

  /** The holder gives up their place (waiting or admitted); people behind move up at once. */
  async leave(token: string | undefined, userId: string): Promise<void> {
    const claims = this.#verifyOwn(token, userId);
    const step = await this.#endTurn(refOf(claims), claims.eid);
    // The leaver's own departure moved everyone behind, whether or not anyone was admitted.
    if (step.admitted.length === 0 && step.dropped === 0) await this.announce(claims.eid, 'head');
  }

  /**
   * Ends the user's turn after a purchase: the token expires and the slot goes to the next in line.
   * Best effort: the purchase has already committed, and an entry left behind lapses after inactivity.
   */
  async complete(buyer: Buyer): Promise<void> {
    try {
      await this.#endTurn(buyer, buyer.eventId);
    } catch (error) {
      this.deps.log.warn({ err: error, eventId: buyer.eventId }, 'could not end the queue entry; it will lapse when idle');
    }
  }

  /**
   * Ends the entry and runs an admission step in the same atomic call, so the freed slot goes to the next
   * in line now, not at the scheduler's next tick.
   */
  #endTurn(entry: EntryRef, eventId: string): Promise<AdmissionStep> {
    return this.#step(eventId, (now, policy) => this.deps.room.completeAndAdmit(eventId, entry, now, policy));
  }

  /**
   * One admission step for every event with a line, and a sample of each line's admission counter for
   * the ETA. Safe to run on every instance at once: each step is one atomic script.
   */
  async admitAll(eventIds?: readonly string[]): Promise<number> {
    let admitted = 0;
    for (const eventId of eventIds ?? (await this.events())) {
      let step: AdmissionStep;
      try {
        step = await this.#admitStep(eventId);
      } catch (error) {
        // One line's shard failing over must not stop the others' lines (Redis Cluster).
        this.deps.log.warn({ err: error, eventId }, 'admission step failed; the next tick tries again');
        continue;
      }
      admitted += step.admitted.length;
      this.#rate.record(eventId, step.admittedTotal, this.deps.clock.now().getTime());
    }
    return admitted;
  }

  #admitStep(eventId: string): Promise<AdmissionStep> {
    return this.#step(eventId, (now, policy) => this.deps.room.admit(eventId, now, policy));
  }

  /**
   * One admission step, which `run` sends, under the event's current settings; announced when it moved
   * the line, and a pre-queue still to place is handed to the opening (which announces the new places itself).
   */
  async #step(eventId: string, run: (now: number | undefined, policy: AdmissionPolicy) => Promise<AdmissionStep>): Promise<AdmissionStep> {
    const settings = await this.deps.settings.settingsOf(eventId);
    const step = await run(this.#pinned(), policyOf(this.deps.lifetimes, settings));
    await this.#afterStep(eventId, step);
    return step;
  }

  /** Hands a due opening to the operations, and tells the streams when the step moved anyone but `mover`. */
  async #afterStep(eventId: string, step: AdmissionStep, mover?: string): Promise<void> {
    if (step.openingDue) await this.deps.settings.openingDue(eventId);
    const movedOthers = step.dropped > 0 || step.admitted.some((userId) => userId !== mover);
    if (movedOthers) await this.announce(eventId, 'head');
  }

  async stats(eventId: string): Promise<QueueStats & { admissionsPerSecond: number }> {
    return { ...(await this.deps.room.stats(eventId)), admissionsPerSecond: this.#rate.perSecond(eventId) ?? 0 };
  }

  /** Events whose line may still hold live tickets: someone joined within a token's lifetime. */
  events(): Promise<string[]> {
    return this.deps.room.events(this.deps.clock.now().getTime() - this.deps.tokenTtlMs);
  }

  /** Tells every instance's streams that the event's line changed, so they re-read their holders' views. */
  async announce(eventId: string, change: LineChange = 'line'): Promise<void> {
    await this.deps.events.publish(eventId, change).catch((error: unknown) => {
      this.deps.log.warn({ err: error, eventId }, 'could not announce a queue change; streams catch up on their heartbeat');
    });
  }

  async #admitted(claims: QueueTokenClaims): Promise<Buyer> {
    const { room, lifetimes } = this.deps;
    const [state] = await room.touch(claims.eid, [refOf(claims)], this.#pinned(), lifetimes);
    if (!state || state.status === 'EXPIRED') throw expired();
    if (state.status === 'SOLD_OUT') throw soldOut(claims.eid);
    if (state.status === 'WAITING') {
      const where = state.position === null ? 'in the pre-queue; places are drawn at the opening' : `at position ${state.position}`;
      throw new AppError('QUEUE_NOT_ADMITTED', `Still waiting in the queue ${where}.`);
    }
    return { tokenId: claims.tid, userId: claims.uid, eventId: claims.eid };
  }

  /** The time the waiting room decides with: a test clock's, else undefined for Redis's own TIME. */
  #pinned(): number | undefined {
    return this.deps.clock.pinned()?.getTime();
  }

  #verify(token: string | undefined): QueueTokenClaims {
    if (!token) throw new AppError('QUEUE_TOKEN_INVALID', 'The X-Queue-Token header is required.');
    const claims = this.deps.signer.verify<QueueTokenClaims>(token, 'queue');
    if (!claims) throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token is not valid.');
    if (claims.exp <= this.deps.clock.now().getTime()) throw expired();
    return claims;
  }

  #verifyOwn(token: string | undefined, userId: string): QueueTokenClaims {
    const claims = this.#verify(token);
    if (claims.uid !== userId) {
      throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token belongs to another user.', { status: 403 });
    }
    return claims;
  }

  #verifiedOrUndefined(token: string, now: number): QueueTokenClaims | undefined {
    const claims = this.deps.signer.verify<QueueTokenClaims>(token, 'queue');
    return claims && claims.exp > now ? claims : undefined;
  }

  async #viewOrExpired(signed: SignedClaims): Promise<QueueView> {
    const [view] = await this.#views(signed.claims.eid, [signed]);
    if (!view) throw expired();
    return view;
  }

  /** Views of verified tokens; the token string is handed back as is, since its claims never change. */
  async #views(eventId: string, tokens: readonly SignedClaims[]): Promise<(QueueView | undefined)[]> {
    const { room, lifetimes } = this.deps;
    if (tokens.length === 0) return [];
    const [states, settings] = await Promise.all([
      room.touch(eventId, tokens.map(({ claims }) => refOf(claims)), this.#pinned(), lifetimes),
      this.deps.settings.settingsOf(eventId),
    ]);
    const moment = this.#moment(eventId, settings);
    return states.map((state, i) => (state.status === 'EXPIRED' ? undefined : viewOf(tokens[i]!, state, moment)));
  }

  #moment(eventId: string, settings: LineSettings, policy = policyOf(this.deps.lifetimes, settings)): LineMoment {
    return { settings, policy, ratePerSecond: this.#rate.perSecond(eventId), now: this.deps.clock.now().getTime() };
  }
}
