import * as idempotency from '../../shared/idempotency.sql.js';
import { fragment, plpgsqlFunction, step } from '../../shared/plpgsql.js';
import { payabilitySql } from '../reservation/reservation.rules.js';
import * as reservations from '../reservation/reservation.sql.js';
import * as wallet from '../wallet/wallet.sql.js';
import * as sql from './payment.sql.js';

/** Each `:name` of the payment's statements, as the function's argument or variable. */
const names = {
  userId: 'p_user_id',
  eventId: 'p_event_id',
  now: 'p_now',
  reservationId: 'v_reservation_id',
  seatId: 'v_seat_id',
  scheduleIds: 'v_schedule_ids',
  scope: `'payment'`,
  key: 'p_key',
  requestHash: 'p_request_hash',
  ttlMs: 'p_key_ttl_ms',
  response: 'v_outcome',
};

/** A payment row of reservation `v_i` (its index in the request). */
const payment = (status: 'SUCCEEDED' | 'FAILED') => ({
  ...names,
  paymentId: 'v_payment_ids[v_i]',
  amount: 'v_prices[v_i]',
  status: `'${status}'`,
  failureCode: status === 'FAILED' ? `'INSUFFICIENT_BALANCE'` : 'NULL',
  debitId: status === 'FAILED' ? 'NULL' : 'v_debit_id',
});

/** The seat of reservation `v_i`, as `SeatOutcome` (payment.sql.ts). */
const seatOf = `jsonb_build_object('id', p_reservation_ids[v_i], 'scheduleId', v_schedule_ids[v_i], 'seatNumber', v_seat_numbers[v_i], 'scheduleEndAt', v_end_ats[v_i])`;

/** Ends the hold in `v_reservation_id` (reservation, then its seat) and lists the seat as released. */
const release = (outcome: 'CANCELED' | 'EXPIRED') => `
            ${step(reservations.closeReservation, { ...names, outcome: `'${outcome}'` })}
            ${step(reservations.releaseSeat, names)}
            out_released := out_released || ${seatOf};`;

/** Points `v_reservation_id` and `v_seat_id` at reservation `v_i`. */
const select = `v_reservation_id := p_reservation_ids[v_i];
          v_seat_id := v_seat_ids[v_i];`;

/** An outcome the purchase commits and reports as an error (`Outcome` in src/shared/idempotency.ts). */
const failure = (code: string, detail: string) => `jsonb_build_object('ok', false, 'code', '${code}', 'detail', ${detail})`;

/** The date rows share-locked all at once: SELECT ... INTO would fetch, and lock, only the first. */
const datesOpen = { source: `SELECT coalesce(bool_and(dates.status = 'OPEN'), true) FROM (${reservations.lockDates.source}) AS dates` };

/**
 * `purchase_pay`: the payment's transaction in one round trip, in the project's lock order (user →
 * date, shared → seats in id order → reservations → wallet): the buyer's row lock, their reservations
 * (refused, with nothing written, when unknown, another user's or another event's), the idempotency
 * key (a replay returns the stored outcome), the dates, the seats and reservations with the payability
 * of each, then one debit of the total, a payment per hold, the reservations confirmed and seats sold,
 * and the count of live holds that says whether the queue turn is over. Outcomes that must stick although
 * nothing was bought (FAILED payments and released holds for a short balance, lapsed holds marked
 * EXPIRED) commit with the function; the service raises them afterwards, as before.
 *
 * Rule: one debit per payment. The conditional debit below takes the total once, under the buyer's row lock, or nothing.
 */
export const payFunction = plpgsqlFunction({
  name: 'purchase_pay',
  args: [
    ['p_user_id', 'uuid'],
    ['p_event_id', 'uuid'],
    ['p_reservation_ids', 'uuid[]'],
    ['p_key', 'text'],
    ['p_request_hash', 'text'],
    ['p_key_ttl_ms', 'float8'],
    ['p_now', 'timestamptz'],
  ],
  out: [
    ['out_refusal', 'text'],
    ['out_refused', 'uuid'],
    ['out_outcome', 'jsonb'],
    ['out_replayed', 'boolean'],
    ['out_released', 'jsonb'],
    ['out_sold', 'jsonb'],
  ],
  variables: [
    ['v_n', 'integer', 'cardinality(p_reservation_ids)'],
    ['v_i', 'integer'],
    ['v_user', 'uuid'],
    ['v_row', 'record'],
    ['v_reservation_id', 'uuid'],
    ['v_seat_id', 'uuid'],
    ['v_seat_ids', 'uuid[]', `'{}'`],
    ['v_schedule_ids', 'uuid[]', `'{}'`],
    ['v_seat_numbers', 'integer[]', `'{}'`],
    ['v_prices', 'bigint[]', `'{}'`],
    ['v_end_ats', 'timestamptz[]', `'{}'`],
    ['v_claimed', 'uuid'],
    ['v_stored_hash', 'text'],
    ['v_stored_response', 'jsonb'],
    ['v_live', 'boolean'],
    ['v_open', 'boolean'],
    ['v_seat_status', 'text'],
    ['v_status', 'text'],
    ['v_expires_at', 'timestamptz'],
    ['v_db_now', 'timestamptz'],
    ['v_statuses', 'text[]', `'{}'`],
    ['v_not_payable', 'integer'],
    ['v_lapsed', 'integer[]', `'{}'`],
    ['v_amount', 'bigint'],
    ['v_payment_ids', 'uuid[]'],
    ['v_debit_id', 'uuid'],
    ['v_balance', 'bigint'],
    ['v_payment', 'jsonb'],
    ['v_payments', 'jsonb', `'[]'`],
    ['v_changed', 'integer'],
    ['v_left', 'bigint'],
    ['v_outcome', 'jsonb'],
  ],
  body: `
    out_replayed := false;
    out_released := '[]';
    out_sold := '[]';
    ${step(reservations.lockUser, names, 'v_user')}
    FOR v_i IN 1..v_n LOOP
      v_reservation_id := p_reservation_ids[v_i];
      ${step(reservations.findReservation, names, 'v_row')}
      IF NOT FOUND THEN
        out_refusal := 'NOT_FOUND';
        out_refused := v_reservation_id;
        RETURN;
      ELSIF v_row."userId" <> p_user_id THEN
        out_refusal := 'FORBIDDEN';
        out_refused := v_reservation_id;
        RETURN;
      ELSIF v_row."eventId" <> p_event_id THEN
        out_refusal := 'QUEUE_TOKEN_INVALID';
        out_refused := v_row."eventId";
        RETURN;
      END IF;
      v_seat_ids[v_i] := v_row."seatId";
      v_schedule_ids[v_i] := v_row."scheduleId";
      v_seat_numbers[v_i] := v_row."seatNumber";
      v_prices[v_i] := v_row.price;
      v_end_ats[v_i] := v_row."scheduleEndAt";
    END LOOP;
    IF p_key IS NOT NULL THEN
      ${step(idempotency.claimKey, names, 'v_claimed')}
      IF NOT FOUND THEN
        ${step(idempotency.readKey, names, 'v_stored_hash, v_stored_response, v_live')}
        IF NOT FOUND OR v_stored_hash <> p_request_hash THEN
          out_refusal := 'IDEMPOTENCY_CONFLICT';
          RETURN;
        END IF;
        IF v_stored_response IS NOT NULL THEN
          out_outcome := v_stored_response;
          out_replayed := true;
          RETURN;
        END IF;
      END IF;
    END IF;
    <<decide>>
    BEGIN
      ${step(datesOpen, names, 'v_open')}
      IF NOT v_open THEN
        v_outcome := ${failure('SCHEDULE_CANCELED', `'The date was canceled; its holds are released and nothing was paid.'`)};
        EXIT decide;
      END IF;
      FOR v_i IN SELECT seat.i::integer FROM unnest(v_seat_ids) WITH ORDINALITY AS seat(id, i) ORDER BY seat.id LOOP
        ${select}
        ${step(reservations.lockSeat, names, 'v_seat_status')}
        ${step(reservations.lockReservation, names, 'v_status, v_expires_at, v_db_now')}
        v_statuses[v_i] := v_status;
        CASE ${fragment(payabilitySql('v_status', 'v_expires_at'), names)}
          WHEN 'NOT_PAYABLE' THEN v_not_payable := coalesce(v_not_payable, v_i);
          WHEN 'EXPIRED' THEN v_lapsed := v_lapsed || v_i;
          ELSE NULL;
        END CASE;
      END LOOP;
      IF v_not_payable IS NOT NULL THEN
        v_outcome := ${failure('RESERVATION_NOT_PAYABLE', `format('Reservation %s is %s.', p_reservation_ids[v_not_payable], lower(v_statuses[v_not_payable]))`)};
        EXIT decide;
      END IF;
      IF cardinality(v_lapsed) > 0 THEN
        FOREACH v_i IN ARRAY v_lapsed LOOP
          CONTINUE WHEN v_statuses[v_i] <> 'PENDING';
          ${select}
          ${release('EXPIRED')}
        END LOOP;
        v_outcome := ${failure(
          'RESERVATION_EXPIRED',
          `format('The hold on %s expired before payment; nothing was paid.', (SELECT string_agg(p_reservation_ids[lapsed.i]::text, ', ' ORDER BY lapsed.o) FROM unnest(v_lapsed) WITH ORDINALITY AS lapsed(i, o)))`,
        )};
        EXIT decide;
      END IF;
      v_amount := (SELECT coalesce(sum(price), 0) FROM unnest(v_prices) AS price);
      v_payment_ids := ARRAY(SELECT gen_random_uuid() FROM generate_series(1, v_n));
      -- The one debit is referenced by the first payment's id; every payment of the purchase names it.
      v_debit_id := v_payment_ids[1];
      IF v_amount > 0 THEN
        ${step(wallet.debit, { ...names, amount: 'v_amount' }, 'v_balance')}
        IF NOT FOUND THEN
          FOR v_i IN 1..v_n LOOP
            ${select}
            ${step(sql.insertPayment, payment('FAILED'), 'v_payment')}
            ${release('CANCELED')}
          END LOOP;
          v_outcome := ${failure('INSUFFICIENT_BALANCE', `format('The balance does not cover %s; the holds were released.', v_amount)`)};
          EXIT decide;
        END IF;
        ${step(wallet.appendLedger, { ...names, amount: '-v_amount', kind: `'PAYMENT'`, reference: 'v_debit_id' })}
      END IF;
      FOR v_i IN 1..v_n LOOP
        ${select}
        ${step(sql.insertPayment, payment('SUCCEEDED'), 'v_payment')}
        v_payments := v_payments || jsonb_build_array(v_payment);
        ${step(reservations.confirmReservation, names)}
        GET DIAGNOSTICS v_changed = ROW_COUNT;
        ${step(reservations.sellSeat, names)}
        IF NOT FOUND OR v_changed <> 1 THEN
          -- Unreachable while the row locks hold; if it ever happens, the whole payment rolls back.
          RAISE EXCEPTION 'reservation % and its seat disagree; payment rolled back', v_reservation_id;
        END IF;
        out_sold := out_sold || ${seatOf};
      END LOOP;
      ${step(reservations.countLiveHoldsInEvent, names, 'v_left')}
      v_outcome := jsonb_build_object('ok', true, 'value', jsonb_build_object('payments', v_payments, 'amount', v_amount, 'turnOver', v_left = 0));
    END decide;
    IF p_key IS NOT NULL THEN
      ${step(idempotency.storeOutcome, names)}
    END IF;
    out_outcome := v_outcome;
  `,
});
