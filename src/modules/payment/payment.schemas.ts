import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from '../../shared/schemas.js';

export const PaymentStatus = Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]);
export type PaymentStatus = Static<typeof PaymentStatus>;

export const Payment = Type.Object({
  id: Uuid,
  reservationId: Uuid,
  amount: Money,
  status: PaymentStatus,
  failureCode: Nullable(Type.String()),
  paidAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type PaymentView = Static<typeof Payment>;

export const PaymentRequest = Type.Object({ reservationId: Uuid }, { additionalProperties: false });
