/**
 * Lock order, everywhere a transaction takes more than one row: user → seat → reservation → wallet.
 * One order means two transactions can wait for each other but never deadlock.
 */

const reservationColumns = `
  r.id, r.user_id, r.schedule_id, r.seat_id, s.seat_number, s.seat_type, r.price, r.status,
  r.reserved_at, r.expires_at, r.confirmed_at, r.canceled_at, sc.event_id, sc.end_at AS schedule_end_at`;

const reservationJoins = `
  FROM reservations r
  JOIN seats s ON s.id = r.seat_id
  JOIN schedules sc ON sc.id = r.schedule_id`;

export const findReservation = `SELECT ${reservationColumns} ${reservationJoins} WHERE r.id = $1`;

export const listUserReservations = `
  SELECT ${reservationColumns} ${reservationJoins}
  WHERE r.user_id = $1
  ORDER BY r.reserved_at DESC
  LIMIT $2`;

/** Serializes one user's holds so the per-user cap cannot be raced past. */
export const lockUser = `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`;

export const countLiveHolds = `
  SELECT count(*) AS holds FROM reservations
  WHERE user_id = $1 AND status = 'PENDING' AND expires_at > $2`;

/**
 * The hold itself: one conditional update decides who gets the seat. The row lock it takes makes
 * every other contender wait and then re-check the condition, which no longer holds for them.
 */
export const holdSeat = `
  UPDATE seats
  SET status = 'HELD', held_by = $3, hold_expires_at = $5, updated_at = $4
  WHERE schedule_id = $1 AND seat_number = $2
    AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at <= $4))
  RETURNING id, seat_type, price`;

export const seatExists = `SELECT status FROM seats WHERE schedule_id = $1 AND seat_number = $2`;

/** A hold that lapsed without the sweeper noticing is closed before the seat gets a new reservation. */
export const expireLapsedReservation = `
  UPDATE reservations SET status = 'EXPIRED', updated_at = $2
  WHERE seat_id = $1 AND status = 'PENDING' AND expires_at <= $2`;

export const insertReservation = `
  INSERT INTO reservations (id, user_id, seat_id, schedule_id, price, status, reserved_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7)`;

export const lockSeat = `SELECT status, held_by FROM seats WHERE id = $1 FOR UPDATE`;

export const lockReservation = `SELECT status, expires_at FROM reservations WHERE id = $1 FOR UPDATE`;

export const closeReservation = `
  UPDATE reservations
  SET status = $2, updated_at = $3,
      canceled_at = CASE WHEN $2 = 'CANCELED' THEN $3::timestamptz END
  WHERE id = $1 AND status = 'PENDING'`;

export const confirmReservation = `
  UPDATE reservations SET status = 'CONFIRMED', confirmed_at = $2, updated_at = $2
  WHERE id = $1 AND status = 'PENDING'`;

export const releaseSeat = `
  UPDATE seats SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL, updated_at = $2
  WHERE id = $1 AND status = 'HELD'`;

export const sellSeat = `
  UPDATE seats SET status = 'SOLD', hold_expires_at = NULL, updated_at = $3
  WHERE id = $1 AND status = 'HELD' AND held_by = $2`;

/**
 * The sweeper's batch: lapsed holds, oldest first, skipping rows another transaction is working on,
 * so any number of instances can sweep at once without waiting on each other or doing work twice.
 */
export const sweepLapsedHolds = `
  WITH due AS (
    SELECT id FROM seats
    WHERE status = 'HELD' AND hold_expires_at <= $1
    ORDER BY hold_expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), released AS (
    UPDATE seats s
    SET status = 'AVAILABLE', held_by = NULL, hold_expires_at = NULL, updated_at = $1
    FROM due WHERE s.id = due.id
    RETURNING s.id, s.schedule_id, s.seat_number
  ), expired AS (
    UPDATE reservations r SET status = 'EXPIRED', updated_at = $1
    FROM released
    WHERE r.seat_id = released.id AND r.status = 'PENDING' AND r.expires_at <= $1
    RETURNING r.id
  )
  SELECT released.schedule_id, released.seat_number, (SELECT count(*) FROM expired) AS expired_count
  FROM released`;
