import type { TokenClaims } from '../../shared/signed-token.js';
import { estimateWaitSeconds } from './admission-rate.js';
import type { LineSettings } from './line-settings.js';
import type { QueueView } from './queue.schemas.js';
import type { AdmissionPolicy, EntryRef, QueueState, QueueTicket } from './waiting-room.js';

/** What a queue token carries, signed: the ticket it stands for. */
export interface QueueTokenClaims extends TokenClaims {
  typ: 'queue';
  tid: string;
  uid: string;
  eid: string;
  /** The join sequence number: the pre-queue's draw orders by it, and a buyer checks their place with it. */
  seq: number;
}

/** A verified (or just signed) token with its claims: the text is handed back as is, since the claims never change. */
export interface SignedClaims {
  claims: QueueTokenClaims;
  token: string;
}

export const refOf = (claims: QueueTokenClaims): EntryRef => ({ userId: claims.uid, tokenId: claims.tid });

export const claimsOf = (ticket: QueueTicket): QueueTokenClaims => ({
  typ: 'queue',
  tid: ticket.tokenId,
  uid: ticket.userId,
  eid: ticket.eventId,
  seq: ticket.seq,
  iat: ticket.issuedAt,
  exp: ticket.expiresAt,
});

/** Seats left, shown to waiters only while every one is held: some may come back when holds lapse or fail to pay. */
export const seatsLeftShown = ({ seatsLeft, seatsAvailable }: LineSettings): number | null =>
  seatsLeft !== null && seatsLeft > 0 && seatsAvailable === 0 ? seatsLeft : null;

/** What the line looks like to everyone viewed at once: the settings, the policy they make, the measured rate, the time. */
export interface LineMoment {
  settings: LineSettings;
  policy: AdmissionPolicy;
  ratePerSecond: number | undefined;
  now: number;
}

/** The holder's view of a live entry. In the pre-queue the ETA counts down to the opening. */
export function viewOf({ claims: c, token }: SignedClaims, state: Exclude<QueueState, { status: 'EXPIRED' }>, line: LineMoment): QueueView {
  const { settings } = line;
  const position = state.status === 'WAITING' ? state.position : state.status === 'ACTIVE' ? 0 : null;
  const etaSeconds =
    position === null
      ? Math.max(0, Math.ceil(((settings.opensAt ?? 0) - line.now) / 1000))
      : estimateWaitSeconds(position, line.ratePerSecond, line.policy);
  return {
    token,
    userId: c.uid,
    eventId: c.eid,
    joinNumber: c.seq,
    status: state.status,
    position,
    issuedAt: new Date(c.iat).toISOString(),
    expiresAt: new Date(c.exp).toISOString(),
    etaSeconds,
    opensAt: settings.opensAt === null ? null : new Date(settings.opensAt).toISOString(),
    paused: settings.paused,
    seatsLeft: seatsLeftShown(settings),
  };
}
