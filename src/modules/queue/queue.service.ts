import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { TokenClaims, TokenSigner } from '../../shared/signed-token.js';
import type { AdmissionPolicy, QueueTicket, WaitingRoom } from './waiting-room.js';

interface QueueTokenClaims extends TokenClaims {
  typ: 'queue';
  tid: string;
  uid: string;
  eid: string;
}

/** What a verified, admitted queue token grants: the right to buy for one event. */
export interface QueueAccess {
  tokenId: string;
  userId: string;
  eventId: string;
}

export interface QueueView {
  token: string;
  userId: string;
  eventId: string;
  status: 'WAITING' | 'ACTIVE';
  /** 1-based place in line while WAITING; 0 once ACTIVE. */
  position: number;
  issuedAt: string;
  expiresAt: string;
  etaSeconds: number;
}

export interface QueueSettings {
  policy: AdmissionPolicy;
  tokenTtlMs: number;
}

export class QueueService {
  constructor(
    private readonly room: WaitingRoom,
    private readonly signer: TokenSigner,
    private readonly clock: Clock,
    private readonly settings: QueueSettings,
    private readonly ensureEventOpen: (eventId: string) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Puts the user in line for the event, or hands back their live token: one per (user, event). */
  async join(userId: string, eventId: string): Promise<QueueView> {
    await this.ensureEventOpen(eventId);
    const now = this.clock.now().getTime();
    const { ticket, created } = await this.room.join(
      { tokenId: randomUUID(), userId, eventId, issuedAt: now, expiresAt: now + this.settings.tokenTtlMs },
      now,
    );
    // With room to spare, the newcomer need not wait for the scheduler's next tick.
    if (created) await this.room.admit(eventId, now, this.settings.policy);
    return this.#view(ticket, now);
  }

  async current(token: string | undefined): Promise<QueueView> {
    const claims = this.#verify(token);
    const now = this.clock.now().getTime();
    return this.#view(
      { tokenId: claims.tid, userId: claims.uid, eventId: claims.eid, seq: 0, issuedAt: claims.iat, expiresAt: claims.exp },
      now,
    );
  }

  /**
   * The guard every buying endpoint runs: the token must be genuine, unexpired, the caller's own and
   * admitted. The call counts as activity and keeps the slot alive.
   */
  async authorize(token: string | undefined, userId: string): Promise<QueueAccess> {
    const claims = this.#verify(token);
    if (claims.uid !== userId) {
      throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token belongs to another user.', { status: 403 });
    }
    return this.#admitted(claims);
  }

  /** The guard for reads that need no user identity beyond the token itself (the seat map). */
  async authorizeToken(token: string | undefined): Promise<QueueAccess> {
    return this.#admitted(this.#verify(token));
  }

  /**
   * Ends the user's turn after a purchase: the token expires and the slot goes to the next in line.
   * Best effort: the purchase has already committed, and an entry left behind lapses after inactivity.
   */
  async complete(access: QueueAccess): Promise<void> {
    await this.room.complete(access.eventId, access.userId, access.tokenId).catch((error: unknown) => {
      this.log.warn({ err: error, eventId: access.eventId }, 'could not end the queue entry; it will lapse when idle');
    });
  }

  /** One admission step for every event with a line; safe to run on every instance at once. */
  async admitAll(): Promise<number> {
    const now = this.clock.now().getTime();
    let admitted = 0;
    for (const eventId of await this.room.events()) {
      admitted += (await this.room.admit(eventId, now, this.settings.policy)).length;
    }
    return admitted;
  }

  assertSameEvent(access: QueueAccess, eventId: string): void {
    if (access.eventId !== eventId) {
      throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token was issued for another event.', { status: 403 });
    }
  }

  async #admitted(claims: QueueTokenClaims): Promise<QueueAccess> {
    const state = await this.room.touch(claims.eid, claims.uid, claims.tid, this.clock.now().getTime(), this.settings.policy);
    if (state.status === 'EXPIRED') throw new AppError('QUEUE_TOKEN_EXPIRED', 'The queue token has expired; join the queue again.');
    if (state.status === 'WAITING') {
      throw new AppError('QUEUE_NOT_ADMITTED', `Still waiting in the queue at position ${state.position}.`);
    }
    return { tokenId: claims.tid, userId: claims.uid, eventId: claims.eid };
  }

  #verify(token: string | undefined): QueueTokenClaims {
    if (!token) throw new AppError('QUEUE_TOKEN_INVALID', 'The X-Queue-Token header is required.');
    const claims = this.signer.verify<QueueTokenClaims>(token, 'queue');
    if (!claims) throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token is not valid.');
    if (claims.exp <= this.clock.now().getTime()) {
      throw new AppError('QUEUE_TOKEN_EXPIRED', 'The queue token has expired; join the queue again.');
    }
    return claims;
  }

  async #view(ticket: QueueTicket, now: number): Promise<QueueView> {
    const state = await this.room.touch(ticket.eventId, ticket.userId, ticket.tokenId, now, this.settings.policy);
    if (state.status === 'EXPIRED') throw new AppError('QUEUE_TOKEN_EXPIRED', 'The queue token has expired; join the queue again.');
    const claims: QueueTokenClaims = {
      typ: 'queue',
      tid: ticket.tokenId,
      uid: ticket.userId,
      eid: ticket.eventId,
      iat: ticket.issuedAt,
      exp: ticket.expiresAt,
    };
    const position = state.status === 'WAITING' ? state.position : 0;
    return {
      token: this.signer.sign(claims),
      userId: ticket.userId,
      eventId: ticket.eventId,
      status: state.status,
      position,
      issuedAt: new Date(ticket.issuedAt).toISOString(),
      expiresAt: new Date(ticket.expiresAt).toISOString(),
      etaSeconds: Math.ceil(position / this.settings.policy.admitPerSecond),
    };
  }
}
