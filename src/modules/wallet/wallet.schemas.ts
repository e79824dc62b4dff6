import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from '../../shared/schemas.js';

/** The largest single charge, in minor units (100,000.00). */
export const MAX_CHARGE_AMOUNT = 10_000_000;

export const Balance = Type.Object({ balance: Money });

export const Charge = Type.Object({ amount: Type.Integer({ minimum: 1, maximum: MAX_CHARGE_AMOUNT }) }, { additionalProperties: false });

export const LedgerKind = Type.Union([Type.Literal('CHARGE'), Type.Literal('PAYMENT'), Type.Literal('REFUND')]);
export type LedgerKind = Static<typeof LedgerKind>;

export const LedgerEntry = Type.Object({
  id: Type.Integer(),
  amount: Type.Integer({ description: 'Positive for charges and refunds, negative for payments.' }),
  kind: LedgerKind,
  reference: Nullable(Uuid),
  createdAt: Timestamp,
});
export type LedgerEntryView = Static<typeof LedgerEntry>;
