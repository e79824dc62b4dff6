import { NOW, statement } from '../../shared/sql.js';
import type { PaymentStatus } from './payment.schemas.js';

interface PaymentRow {
  id: string;
  reservationId: string;
  amount: number;
  status: PaymentStatus;
  failureCode: string | null;
  paidAt: Date | null;
  createdAt: Date;
}

const paymentColumns = `id, reservation_id AS "reservationId", amount, status, failure_code AS "failureCode",
  paid_at AS "paidAt", created_at AS "createdAt"`;

/** Rule: one successful payment per reservation. The unique index payments_one_success_per_reservation has the last word. */
export const insertPayment = statement<
  { paymentId: string; userId: string; reservationId: string; amount: number; status: PaymentStatus; failureCode: string | null; now: Date | null },
  PaymentRow
>(`
  INSERT INTO payments (id, user_id, reservation_id, amount, status, failure_code, paid_at)
  VALUES (:paymentId, :userId, :reservationId, :amount, :status, :failureCode, CASE WHEN :status = 'SUCCEEDED' THEN ${NOW} END)
  RETURNING ${paymentColumns}`);

export const listUserPayments = statement<{ userId: string; limit: number }, PaymentRow>(`
  SELECT ${paymentColumns}
  FROM payments
  WHERE user_id = :userId
  ORDER BY created_at DESC, id
  LIMIT :limit`);
