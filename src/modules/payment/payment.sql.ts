import { NOW, statement } from '../../shared/sql.js';
import { paymentMachine } from './payment.rules.js';
import type { PaymentStatus } from './payment.schemas.js';

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
 * Rule: one successful payment per reservation. The unique index payments_one_success_per_reservation has
 * the last word. `debitId` names the ledger debit that paid it (one for all the seats of one purchase).
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
  PaymentRow
>(`
  INSERT INTO payments (id, user_id, reservation_id, amount, status, failure_code, debit_id, paid_at)
  VALUES (:paymentId, :userId, :reservationId, :amount, :status, :failureCode, :debitId, CASE WHEN :status = 'SUCCEEDED' THEN ${NOW} END)
  RETURNING ${paymentColumns}`);

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
