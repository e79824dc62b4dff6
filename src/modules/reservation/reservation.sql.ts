import { millis, NOW, statement } from '../../shared/sql.js';
import { effectiveSeatStatusSql, lapsedSql, seatMachine } from '../catalog/catalog.rules.js';
import type { SeatType } from '../catalog/catalog.schemas.js';
import { reservationMachine } from './reservation.rules.js';
import type { ReservationStatus } from './reservation.schemas.js';

/**
 * Rule: one lock order. Everywhere a transaction takes more than one row: user → seat → reservation → wallet.
 * One order means two transactions can wait for each other but never deadlock.
 */

/** A reservation with what its callers need of its seat and date. */
export interface ReservationRecord {
  id: string;
  userId: string;
  scheduleId: string;
  seatId: string;
  seatNumber: number;
  seatType: SeatType;
  price: number;
  status: ReservationStatus;
  reservedAt: Date;
  expiresAt: Date;
  confirmedAt: Date | null;
  canceledAt: Date | null;
  eventId: string;
  /** The date's start: refunds close REFUND_CUTOFF_SECONDS before it. */
  scheduleStartAt: Date;
  /** The date's end: how long a sold seat stays refused in the fast path. */
  scheduleEndAt: Date;
  /** The database's time when the row was read: a view judges "lapsed" by it, not by an instance's clock. */
  readAt: Date;
}

const reservationColumns = `
  r.id, r.user_id AS "userId", r.schedule_id AS "scheduleId", r.seat_id AS "seatId", s.seat_number AS "seatNumber",
  s.seat_type AS "seatType", r.price, r.status, r.reserved_at AS "reservedAt", r.expires_at AS "expiresAt",
  r.confirmed_at AS "confirmedAt", r.canceled_at AS "canceledAt", sc.event_id AS "eventId", sc.start_at AS "scheduleStartAt", sc.end_at AS "scheduleEndAt",
  ${NOW} AS "readAt"
  FROM reservations r
  JOIN seats s ON s.id = r.seat_id
  JOIN schedules sc ON sc.id = r.schedule_id`;

export const findReservation = statement<{ reservationId: string; now: Date | null }, ReservationRecord>(
  `SELECT ${reservationColumns} WHERE r.id = :reservationId`,
);

export const listUserReservations = statement<{ userId: string; limit: number; now: Date | null }, ReservationRecord>(`
  SELECT ${reservationColumns}
  WHERE r.user_id = :userId
  ORDER BY r.reserved_at DESC
  LIMIT :limit`);

/** Serializes one user's holds so the per-user cap cannot be raced past. */
export const lockUser = statement<{ userId: string }>(`SELECT id FROM users WHERE id = :userId FOR NO KEY UPDATE`);

/** The buyer's live holds in one event: while any is left, the same queue turn may pay it. */
export const countLiveHoldsInEvent = statement<{ userId: string; eventId: string; now: Date | null }, { holds: number }>(`
  SELECT count(*) AS holds FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id
  WHERE r.user_id = :userId AND sc.event_id = :eventId AND r.status = 'PENDING' AND NOT ${lapsedSql('r.expires_at')}`);

export const countLiveHolds = statement<{ userId: string; now: Date | null }, { holds: number }>(`
  SELECT count(*) AS holds FROM reservations
  WHERE user_id = :userId AND status = 'PENDING' AND NOT ${lapsedSql('expires_at')}`);

/**
 * Rule: one buyer per seat (first word). One conditional update decides who gets the seat. The row lock
 * it takes makes every other contender wait and then re-check the condition, which no longer holds.
 */
export const holdSeat = statement<
  { scheduleId: string; seatNumber: number; userId: string; now: Date | null; holdMs: number },
  { id: string; seatType: SeatType; price: number; heldAt: Date; expiresAt: Date }
>(`
  UPDATE seats
  SET status = 'HELD', held_by = :userId, hold_expires_at = ${NOW} + ${millis('holdMs')}, updated_at = ${NOW}
  WHERE schedule_id = :scheduleId AND seat_number = :seatNumber
    AND ${seatMachine.guard(effectiveSeatStatusSql('seats'), 'HELD')}
    AND EXISTS (SELECT 1 FROM schedules sc WHERE sc.id = :scheduleId AND sc.status = 'OPEN')
  RETURNING id, seat_type AS "seatType", price, updated_at AS "heldAt", hold_expires_at AS "expiresAt"`);

/**
 * Why a hold was refused: no such seat, a canceled date, or a taken seat; for a sold seat, the purchase
 * that bought it and the date's end, so the fast path's sold marker can be put back.
 */
export const seatAndDate = statement<{ scheduleId: string; seatNumber: number }, { scheduleStatus: string; soldTo: string | null; scheduleEndAt: Date }>(`
  SELECT sc.status AS "scheduleStatus",
         (SELECT r.id FROM reservations r WHERE r.seat_id = s.id AND s.status = 'SOLD' AND r.status = 'CONFIRMED') AS "soldTo",
         sc.end_at AS "scheduleEndAt"
  FROM seats s JOIN schedules sc ON sc.id = s.schedule_id
  WHERE s.schedule_id = :scheduleId AND s.seat_number = :seatNumber`);

/** A hold that lapsed without the sweeper noticing is closed before the seat gets a new reservation. */
export const expireLapsedReservation = statement<{ seatId: string; now: Date | null }>(`
  UPDATE reservations SET status = 'EXPIRED', updated_at = ${NOW}
  WHERE seat_id = :seatId AND ${reservationMachine.guard('status', 'EXPIRED')} AND ${lapsedSql('expires_at')}`);

export const insertReservation = statement<{
  reservationId: string;
  userId: string;
  seatId: string;
  scheduleId: string;
  price: number;
  reservedAt: Date;
  expiresAt: Date;
}>(`
  INSERT INTO reservations (id, user_id, seat_id, schedule_id, price, status, reserved_at, expires_at)
  VALUES (:reservationId, :userId, :seatId, :scheduleId, :price, 'PENDING', :reservedAt, :expiresAt)`);

/** What the hold function decided: the held seat, or why not (`refusal`), with a sold seat's purchase. */
export interface HoldDecision {
  refusal: 'HOLD_LIMIT_REACHED' | 'NOT_FOUND' | 'SCHEDULE_CANCELED' | 'SEAT_UNAVAILABLE' | null;
  seatType: SeatType;
  price: number;
  heldAt: Date;
  expiresAt: Date;
  soldTo: string | null;
  scheduleEndAt: Date | null;
}

/** The hold in one round trip: `purchase_hold` (reservation.functions.ts) runs the statements above as one transaction. */
export const holdInOneTrip = statement<
  { reservationId: string; scheduleId: string; seatNumber: number; userId: string; holdMs: number; maxHolds: number; now: Date | null },
  HoldDecision
>(`
  SELECT out_refusal AS refusal, out_seat_type AS "seatType", out_price AS price, out_held_at AS "heldAt",
         out_expires_at AS "expiresAt", out_sold_to AS "soldTo", out_schedule_end_at AS "scheduleEndAt"
  FROM purchase_hold(:reservationId, :scheduleId, :seatNumber, :userId, :holdMs, :maxHolds, :now)`,
  { prepared: 'purchase_hold' },
);

export const lockSeat = statement<{ seatId: string }>(`SELECT status FROM seats WHERE id = :seatId FOR UPDATE`);

/** With the time the database decides by, so the caller judges the hold by the same clock as the SQL. */
export const lockReservation = statement<{ reservationId: string; now: Date | null }, { status: ReservationStatus; expiresAt: Date; now: Date }>(
  `SELECT status, expires_at AS "expiresAt", ${NOW} AS now FROM reservations WHERE id = :reservationId FOR UPDATE`,
);

export const closeReservation = statement<{ reservationId: string; outcome: 'CANCELED' | 'EXPIRED'; now: Date | null }>(`
  UPDATE reservations
  SET status = :outcome, updated_at = ${NOW},
      canceled_at = CASE WHEN :outcome = 'CANCELED' THEN ${NOW} END
  WHERE id = :reservationId AND ${reservationMachine.guard('status', 'CANCELED', ['PENDING'])}`);

export const confirmReservation = statement<{ reservationId: string; now: Date | null }>(`
  UPDATE reservations SET status = 'CONFIRMED', confirmed_at = ${NOW}, updated_at = ${NOW}
  WHERE id = :reservationId AND ${reservationMachine.guard('status', 'CONFIRMED')}`);

export const releaseSeat = statement<{ seatId: string; now: Date | null }>(`
  UPDATE seats SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL, updated_at = ${NOW}
  WHERE id = :seatId AND ${seatMachine.guard('status', 'AVAILABLE', ['HELD'])}`);

/**
 * The dates being bought, share-locked: a date's cancel (an UPDATE of the row) waits for purchases in
 * flight, and a purchase after it sees the date CANCELED, so no sale lands behind a cancel's back.
 */
export const lockDates = statement<{ scheduleIds: string[] }, { id: string; status: string }>(
  `SELECT id, status FROM schedules WHERE id = ANY(:scheduleIds::uuid[]) FOR SHARE`,
);

/** A refunded purchase: the reservation is canceled and its seat is on sale again. */
export const cancelPurchase = statement<{ reservationId: string; now: Date | null }>(`
  UPDATE reservations SET status = 'CANCELED', canceled_at = ${NOW}, updated_at = ${NOW}
  WHERE id = :reservationId AND ${reservationMachine.guard('status', 'CANCELED', ['CONFIRMED'])}`);

export const reopenSeat = statement<{ seatId: string; now: Date | null }>(`
  UPDATE seats SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL, updated_at = ${NOW}
  WHERE id = :seatId AND ${seatMachine.guard('status', 'AVAILABLE', ['SOLD'])}`);

export const sellSeat = statement<{ seatId: string; userId: string; now: Date | null }>(`
  UPDATE seats SET status = 'SOLD', hold_expires_at = NULL, updated_at = ${NOW}
  WHERE id = :seatId AND ${seatMachine.guard('status', 'SOLD')} AND held_by = :userId`);

/**
 * Rule: hold expiry (the sweeper). The batch of lapsed holds, oldest first, skipping rows another
 * transaction is working on, so any number of instances can sweep at once without waiting on each
 * other or doing work twice.
 */
export const sweepLapsedHolds = statement<{ now: Date | null; batchSize: number }, { scheduleId: string; seatNumber: number }>(`
  WITH due AS (
    SELECT id FROM seats
    WHERE status = 'HELD' AND ${lapsedSql('hold_expires_at')}
    ORDER BY hold_expires_at
    LIMIT :batchSize
    FOR UPDATE SKIP LOCKED
  ), released AS (
    UPDATE seats s
    SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL, updated_at = ${NOW}
    FROM due WHERE s.id = due.id
    RETURNING s.id, s.schedule_id, s.seat_number
  ), expired AS (
    UPDATE reservations r SET status = 'EXPIRED', updated_at = ${NOW}
    FROM released
    WHERE r.seat_id = released.id AND ${reservationMachine.guard('r.status', 'EXPIRED')} AND ${lapsedSql('r.expires_at')}
    RETURNING r.id
  )
  SELECT released.schedule_id AS "scheduleId", released.seat_number AS "seatNumber", (SELECT count(*) FROM expired) AS "expiredCount"
  FROM released`);
