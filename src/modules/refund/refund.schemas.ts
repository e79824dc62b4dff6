import { Type, type Static } from '@sinclair/typebox';
import { Money } from '../../shared/schemas.js';

export const CancelScheduleResult = Type.Object({
  refunded: Type.Integer({ minimum: 0, description: 'Purchases refunded by this call.' }),
  released: Type.Integer({ minimum: 0, description: 'Pending holds released by this call.' }),
  amountRefunded: Money,
});
export type CancelScheduleResult = Static<typeof CancelScheduleResult>;
