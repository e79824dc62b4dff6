import { plpgsqlFunction, step } from '../../shared/plpgsql.js';
import * as sql from './reservation.sql.js';

/** Each `:name` of the hold's statements, as the function's argument, variable or result column. */
const names = {
  reservationId: 'p_reservation_id',
  scheduleId: 'p_schedule_id',
  seatNumber: 'p_seat_number',
  userId: 'p_user_id',
  holdMs: 'p_hold_ms',
  now: 'p_now',
  seatId: 'v_seat_id',
  price: 'out_price',
  reservedAt: 'out_held_at',
  expiresAt: 'out_expires_at',
};

/**
 * `purchase_hold`: the hold's transaction in one round trip, statement for statement what the service
 * ran before as seven: the user's row lock, the count of their live holds, the conditional seat UPDATE,
 * closing a lapsed reservation of the seat, inserting the new one. A refusal is a result (`out_refusal`),
 * raised by the service as the same AppError as before; the function has written nothing by then but
 * row locks, which end with it.
 *
 * Rule: at most HOLD_MAX_PER_USER live holds, counted after the user's row lock is granted. Every statement of a
 * PL/pgSQL function takes a fresh READ COMMITTED snapshot, so the count sees the holds committed by the
 * transaction the lock waited for (one SQL statement would not: its snapshot predates the wait).
 */
export const holdFunction = plpgsqlFunction({
  name: 'purchase_hold',
  args: [
    ['p_reservation_id', 'uuid'],
    ['p_schedule_id', 'uuid'],
    ['p_seat_number', 'integer'],
    ['p_user_id', 'uuid'],
    ['p_hold_ms', 'float8'],
    ['p_max_holds', 'integer'],
    ['p_now', 'timestamptz'],
  ],
  out: [
    ['out_refusal', 'text'],
    ['out_seat_type', 'text'],
    ['out_price', 'bigint'],
    ['out_held_at', 'timestamptz'],
    ['out_expires_at', 'timestamptz'],
    ['out_sold_to', 'uuid'],
    ['out_schedule_end_at', 'timestamptz'],
  ],
  variables: [
    ['v_user', 'uuid'],
    ['v_holds', 'bigint'],
    ['v_seat_id', 'uuid'],
    ['v_schedule_status', 'text'],
  ],
  body: `
    ${step(sql.lockUser, names, 'v_user')}
    ${step(sql.countLiveHolds, names, 'v_holds')}
    IF v_holds >= p_max_holds THEN
      out_refusal := 'HOLD_LIMIT_REACHED';
      RETURN;
    END IF;
    ${step(sql.holdSeat, names, 'v_seat_id, out_seat_type, out_price, out_held_at, out_expires_at')}
    IF NOT FOUND THEN
      ${step(sql.seatAndDate, names, 'v_schedule_status, out_sold_to, out_schedule_end_at')}
      out_refusal := CASE WHEN NOT FOUND THEN 'NOT_FOUND' WHEN v_schedule_status = 'CANCELED' THEN 'SCHEDULE_CANCELED' ELSE 'SEAT_UNAVAILABLE' END;
      RETURN;
    END IF;
    ${step(sql.expireLapsedReservation, names)}
    ${step(sql.insertReservation, names)}
  `,
});
