import { isoSql, NOW, statement } from '../../shared/sql.js';
import { paymentMachine } from './payment.rules.js';
import type { PaymentStatus, PaymentView } from './payment.schemas.js';

export interface PaymentRow {
  id: string;
  reservationId: string;
  amount: number;
  status: PaymentStatus;
  failureCode: string | null;
  paidAt: Date | null;
  canceledAt: Date | null;
  createdAt: Date;
}

const paymentColumns = `id, reservation_id AS "reservationId", amount, status, failure_code AS "failureCode",
  paid_at AS "paidAt", canceled_at AS "canceledAt", created_at AS "createdAt"`;

/**
 * A payment as the API shows it (`PaymentView`), built in SQL: the payment function answers with it and
 * stores it with the idempotency key, so a replay is the very same JSON. Times are written as a JS Date
 * writes them, so the history (`toPaymentView`) shows the same strings.
 */
const paymentViewJson = `jsonb_build_object('id', id, 'reservationId', reservation_id, 'amount', amount, 'status', status,
  'failureCode', failure_code, 'paidAt', ${isoSql('paid_at')}, 'canceledAt', ${isoSql('canceled_at')}, 'createdAt', ${isoSql('created_at')})`;

/**
 * Rule: one successful payment per reservation. The unique index payments_one_success_per_reservation has
 * the last word. `debitId` names the ledger debit that paid it (one for all the seats of one purchase).
 * Run by the payment function (payment.functions.ts).
 */
export const insertPayment = statement<
  {
    paymentId: string;
    userId: string;
    reservationId: string;
    amount: number;
    status: PaymentStatus;
    failureCode: string | null;
    debitId: string | null;
    now: Date | null;
  },
  { payment: PaymentView }
>(`
  INSERT INTO payments (id, user_id, reservation_id, amount, status, failure_code, debit_id, paid_at)
  VALUES (:paymentId, :userId, :reservationId, :amount, :status, :failureCode, :debitId, CASE WHEN :status = 'SUCCEEDED' THEN ${NOW} END)
  RETURNING ${paymentViewJson} AS payment`);

/** A seat a purchase released or sold, for what follows the commit (the fast path's seat locks). */
export interface SeatOutcome {
  id: string;
  scheduleId: string;
  seatNumber: number;
  scheduleEndAt: string;
}

/** What the payment function decided (payment.functions.ts): a refusal that changed nothing, or an outcome it committed. */
export interface PurchaseDecision {
  refusal: 'NOT_FOUND' | 'FORBIDDEN' | 'QUEUE_TOKEN_INVALID' | 'IDEMPOTENCY_CONFLICT' | null;
  /** The reservation refused (NOT_FOUND, FORBIDDEN), or the event it belongs to (QUEUE_TOKEN_INVALID). */
  refused: string | null;
  /** The stored outcome's shape (`Outcome` of src/shared/idempotency.ts), replayed or new. */
  outcome: unknown;
  replayed: boolean;
  released: SeatOutcome[];
  sold: SeatOutcome[];
}

/** The payment in one round trip: `purchase_pay` runs the whole transaction, idempotency key included. */
export const payInOneTrip = statement<
  {
    userId: string;
    eventId: string;
    reservationIds: readonly string[];
    key: string | null;
    requestHash: string | null;
    keyTtlMs: number;
    now: Date | null;
  },
  PurchaseDecision
>(`
  SELECT out_refusal AS refusal, out_refused AS refused, out_outcome AS outcome, out_replayed AS replayed,
         out_released AS released, out_sold AS sold
  FROM purchase_pay(:userId, :eventId, :reservationIds::uuid[], :key, :requestHash, :keyTtlMs, :now)`,
  { prepared: 'purchase_pay' },
);

export const listUserPayments = statement<{ userId: string; limit: number }, PaymentRow>(`
  SELECT ${paymentColumns}
  FROM payments
  WHERE user_id = :userId
  ORDER BY created_at DESC, id
  LIMIT :limit`);

/** The payment that bought a reservation, locked: a refund takes it after the seat and reservation rows. */
export const lockPaymentOf = statement<{ reservationId: string }, PaymentRow>(`
  SELECT ${paymentColumns} FROM payments
  WHERE reservation_id = :reservationId AND status IN ('SUCCEEDED', 'REFUNDED')
  FOR UPDATE`);

export const refundPayment = statement<{ paymentId: string; now: Date | null }, PaymentRow>(`
  UPDATE payments SET status = 'REFUNDED', canceled_at = ${NOW}, updated_at = ${NOW}
  WHERE id = :paymentId AND ${paymentMachine.guard('status', 'REFUNDED')}
  RETURNING ${paymentColumns}`);
