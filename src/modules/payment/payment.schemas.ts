import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from '../../shared/schemas.js';

export const PaymentStatus = Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED'), Type.Literal('REFUNDED')]);
export type PaymentStatus = Static<typeof PaymentStatus>;

export const Payment = Type.Object({
  id: Uuid,
  reservationId: Uuid,
  amount: Money,
  status: PaymentStatus,
  failureCode: Nullable(Type.String()),
  paidAt: Nullable(Timestamp),
  canceledAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type PaymentView = Static<typeof Payment>;

export const PaymentRequest = Type.Union([
  Type.Object({ reservationId: Uuid }, { additionalProperties: false }),
  Type.Object(
    { reservationIds: Type.Array(Uuid, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'Your own pending holds of one event, at most HOLD_MAX_PER_USER.' }) },
    { additionalProperties: false },
  ),
]);
export type PaymentRequestBody = Static<typeof PaymentRequest>;

/** Several holds paid by one debit of the total: one payment row each. */
export const Purchase = Type.Object({ payments: Type.Array(Payment), amount: Money });
export type PurchaseView = Static<typeof Purchase>;
