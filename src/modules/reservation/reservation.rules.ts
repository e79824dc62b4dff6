export type ReservationStatus = 'PENDING' | 'CONFIRMED' | 'CANCELED' | 'EXPIRED';

/**
 * Every move a reservation can make, and nothing else. PENDING is the hold; the other three are final.
 * SQL updates also guard on the current status, so a transition the table forbids cannot happen in a race.
 */
export const reservationTransitions: Record<ReservationStatus, readonly ReservationStatus[]> = {
  PENDING: ['CONFIRMED', 'CANCELED', 'EXPIRED'],
  CONFIRMED: [],
  CANCELED: [],
  EXPIRED: [],
};

export const canTransition = (from: ReservationStatus, to: ReservationStatus): boolean =>
  reservationTransitions[from].includes(to);

/** A PENDING hold past its deadline is expired, whether or not the sweeper has marked it yet. */
export function effectiveStatus(status: ReservationStatus, expiresAt: Date, now: Date): ReservationStatus {
  return status === 'PENDING' && expiresAt <= now ? 'EXPIRED' : status;
}

export type PayabilityVerdict = 'PAYABLE' | 'EXPIRED' | 'NOT_PAYABLE';

/** Whether a reservation in this state can be paid now. */
export function payability(status: ReservationStatus, expiresAt: Date, now: Date): PayabilityVerdict {
  const effective = effectiveStatus(status, expiresAt, now);
  if (effective === 'PENDING') return 'PAYABLE';
  if (effective === 'EXPIRED') return 'EXPIRED';
  return 'NOT_PAYABLE';
}
