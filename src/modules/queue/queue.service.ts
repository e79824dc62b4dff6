import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { TokenClaims, TokenSigner } from '../../shared/signed-token.js';
import { AdmissionRateMeter, estimateWaitSeconds } from './admission-rate.js';
import type { Buyer } from './buyer.js';
import type { QueueEvents } from './queue-events.js';
import type { QueueView } from './queue.schemas.js';
import type { AdmissionPolicy, AdmissionStep, EntryRef, QueueStats, QueueTicket, WaitingRoom } from './waiting-room.js';

interface QueueTokenClaims extends TokenClaims {
  typ: 'queue';
  tid: string;
  uid: string;
  eid: string;
}


export interface QueueDeps {
  room: WaitingRoom;
  events: QueueEvents;
  signer: TokenSigner;
  clock: Clock;
  policy: AdmissionPolicy;
  tokenTtlMs: number;
  /** Throws NOT_FOUND unless the event exists and is on sale. */
  ensureEventOpen: (eventId: string) => Promise<void>;
  log: Logger;
}

const expired = () => new AppError('QUEUE_TOKEN_EXPIRED', 'The queue token has expired; join the queue again.');

export class QueueService {
  readonly #rate = new AdmissionRateMeter();

  constructor(private readonly deps: QueueDeps) {}

  /** Puts the user in line for the event, or hands back their live token: one per (user, event). */
  async join(userId: string, eventId: string): Promise<QueueView> {
    const { room, clock, policy, tokenTtlMs } = this.deps;
    await this.deps.ensureEventOpen(eventId);
    const { ticket, created } = await room.join({ tokenId: randomUUID(), userId, eventId, ttlMs: tokenTtlMs }, this.#pinned());
    // With room to spare, the newcomer need not wait for the scheduler's next tick.
    if (created) await this.#announce(eventId, await room.admit(eventId, this.#pinned(), policy));
    const claims = claimsOf(ticket);
    return this.#viewOrExpired({ claims, token: this.deps.signer.sign(claims) }, clock.now().getTime());
  }

  /** Position, status and ETA for a token; QUEUE_TOKEN_EXPIRED once it no longer holds a place. */
  async current(token: string | undefined): Promise<QueueView> {
    return this.#viewOrExpired({ claims: this.#verify(token), token: token! }, this.deps.clock.now().getTime());
  }

  /**
   * Views for many tokens of one event in one queue-store round trip (the stream hub's refresh);
   * undefined where a token no longer holds a place. Counts as each holder's poll.
   */
  async currentMany(eventId: string, tokens: readonly string[]): Promise<(QueueView | undefined)[]> {
    const now = this.deps.clock.now().getTime();
    const live = tokens.flatMap((token, index) => {
      const claims = this.#verifiedOrUndefined(token, now);
      return claims?.eid === eventId ? [{ claims, token, index }] : [];
    });
    const rendered = await this.#views(eventId, live, now);
    const views: (QueueView | undefined)[] = new Array(tokens.length).fill(undefined);
    live.forEach(({ index }, k) => (views[index] = rendered[k]));
    return views;
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
    const { room, clock, policy } = this.deps;
    const claims = this.#verifyOwn(token, userId);
    await room.complete(claims.eid, claims.uid, claims.tid);
    const step = await room.admit(claims.eid, this.#pinned(), policy);
    await this.#announce(claims.eid, { ...step, dropped: step.dropped + 1 });
  }

  /**
   * Ends the user's turn after a purchase: the token expires and the slot goes to the next in line.
   * Best effort: the purchase has already committed, and an entry left behind lapses after inactivity.
   */
  async complete(buyer: Buyer): Promise<void> {
    const { room, clock, policy, log } = this.deps;
    try {
      await room.complete(buyer.eventId, buyer.userId, buyer.tokenId);
      // The freed slot goes to the next in line now, not at the scheduler's next tick.
      await this.#announce(buyer.eventId, await room.admit(buyer.eventId, this.#pinned(), policy));
    } catch (error) {
      log.warn({ err: error, eventId: buyer.eventId }, 'could not end the queue entry; it will lapse when idle');
    }
  }

  /**
   * One admission step for every event with a line, and a sample of each line's admission counter for
   * the ETA. Safe to run on every instance at once: each step is one atomic script.
   */
  async admitAll(): Promise<number> {
    const { room, clock, policy } = this.deps;
    let admitted = 0;
    for (const eventId of await this.events()) {
      let step: AdmissionStep;
      try {
        step = await room.admit(eventId, this.#pinned(), policy);
      } catch (error) {
        // One line's shard failing over must not stop the others' lines (Redis Cluster).
        this.deps.log.warn({ err: error, eventId }, 'admission step failed; the next tick tries again');
        continue;
      }
      admitted += step.admitted.length;
      await this.#announce(eventId, step);
      this.#rate.record(eventId, step.admittedTotal, clock.now().getTime());
    }
    return admitted;
  }

  async stats(eventId: string): Promise<QueueStats & { admissionsPerSecond: number }> {
    return { ...(await this.deps.room.stats(eventId)), admissionsPerSecond: this.#rate.perSecond(eventId) ?? 0 };
  }

  /** Events whose line may still hold live tickets: someone joined within a token's lifetime. */
  events(): Promise<string[]> {
    return this.deps.room.events(this.deps.clock.now().getTime() - this.deps.tokenTtlMs);
  }

  async #announce(eventId: string, step: AdmissionStep): Promise<void> {
    if (step.admitted.length === 0 && step.dropped === 0) return;
    await this.deps.events.publish(eventId).catch((error: unknown) => {
      this.deps.log.warn({ err: error, eventId }, 'could not announce a queue change; streams catch up on their heartbeat');
    });
  }

  async #admitted(claims: QueueTokenClaims): Promise<Buyer> {
    const { room, clock, policy } = this.deps;
    const [state] = await room.touch(claims.eid, [refOf(claims)], this.#pinned(), policy);
    if (!state || state.status === 'EXPIRED') throw expired();
    if (state.status === 'WAITING') {
      throw new AppError('QUEUE_NOT_ADMITTED', `Still waiting in the queue at position ${state.position}.`);
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

  async #viewOrExpired(signed: SignedClaims, now: number): Promise<QueueView> {
    const [view] = await this.#views(signed.claims.eid, [signed], now);
    if (!view) throw expired();
    return view;
  }

  /** Views of verified tokens; the token string is handed back as is, since its claims never change. */
  async #views(eventId: string, tokens: readonly SignedClaims[], now: number): Promise<(QueueView | undefined)[]> {
    const { room, policy } = this.deps;
    if (tokens.length === 0) return [];
    const states = await room.touch(eventId, tokens.map(({ claims }) => refOf(claims)), this.#pinned(), policy);
    const rate = this.#rate.perSecond(eventId);
    return states.map((state, i) => {
      if (state.status === 'EXPIRED') return undefined;
      const { claims: c, token } = tokens[i]!;
      const position = state.status === 'WAITING' ? state.position : 0;
      return {
        token,
        userId: c.uid,
        eventId: c.eid,
        status: state.status,
        position,
        issuedAt: new Date(c.iat).toISOString(),
        expiresAt: new Date(c.exp).toISOString(),
        etaSeconds: estimateWaitSeconds(position, rate, policy),
      };
    });
  }
}

interface SignedClaims {
  claims: QueueTokenClaims;
  token: string;
}

const refOf = (claims: QueueTokenClaims): EntryRef => ({ userId: claims.uid, tokenId: claims.tid });

const claimsOf = (ticket: QueueTicket): QueueTokenClaims => ({
  typ: 'queue',
  tid: ticket.tokenId,
  uid: ticket.userId,
  eid: ticket.eventId,
  iat: ticket.issuedAt,
  exp: ticket.expiresAt,
});
