import { StateMachine } from '../../shared/state-machine.js';
import { isLapsed, lapsedSql } from '../catalog/catalog.rules.js';
import type { ReservationStatus } from './reservation.schemas.js';

/**
 * Reservation: PENDING (the hold) → CONFIRMED (paid) | CANCELED (by the buyer, a failed payment or a
 * canceled date) | EXPIRED (lapsed); CONFIRMED → CANCELED (refunded). Services assert moves against this table; the SQL guards on it too, so a move it
 * does not list cannot happen in a race either.
 */
export const reservationMachine = new StateMachine<ReservationStatus>('reservation', {
  PENDING: ['CONFIRMED', 'CANCELED', 'EXPIRED'],
  CONFIRMED: ['CANCELED'],
  CANCELED: [],
  EXPIRED: [],
});

export const reservationTransitions = reservationMachine.transitions;

export const canTransition = (from: ReservationStatus, to: ReservationStatus): boolean => reservationMachine.can(from, to);

/** A PENDING hold past its deadline is expired, whether or not the sweeper has marked it yet. */
export function effectiveStatus(status: ReservationStatus, expiresAt: Date, now: Date): ReservationStatus {
  return status === 'PENDING' && isLapsed(expiresAt, now) ? 'EXPIRED' : status;
}

export type PayabilityVerdict = 'PAYABLE' | 'EXPIRED' | 'NOT_PAYABLE';

/** Rule: only a live pending hold can be paid. Whether a reservation in this state can be paid now. */
export function payability(status: ReservationStatus, expiresAt: Date, now: Date): PayabilityVerdict {
  const effective = effectiveStatus(status, expiresAt, now);
  if (effective === 'EXPIRED') return 'EXPIRED';
  return reservationMachine.can(effective, 'CONFIRMED') ? 'PAYABLE' : 'NOT_PAYABLE';
}

/** `effectiveStatus` in SQL, for a status and a deadline (columns or variables), judged by `NOW`. */
export const effectiveStatusSql = (status: string, expiresAt: string): string =>
  `(CASE WHEN ${status} = 'PENDING' AND ${lapsedSql(expiresAt)} THEN 'EXPIRED' ELSE ${status} END)`;

/** `payability` in SQL, for the payment function: 'PAYABLE', 'EXPIRED' or 'NOT_PAYABLE'. */
export const payabilitySql = (status: string, expiresAt: string): string => {
  const effective = effectiveStatusSql(status, expiresAt);
  return `(CASE WHEN ${effective} = 'EXPIRED' THEN 'EXPIRED' WHEN ${reservationMachine.guard(effective, 'CONFIRMED')} THEN 'PAYABLE' ELSE 'NOT_PAYABLE' END)`;
};
