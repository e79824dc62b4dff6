import { StateMachine } from '../../shared/state-machine.js';
import type { PaymentStatus } from './payment.schemas.js';

/**
 * Payment: recorded once, as SUCCEEDED (the debit went through) or FAILED (it did not); both are final
 * today. A later step (a refund) is one more line here and a guard on it in the SQL.
 */
export const paymentMachine = new StateMachine<PaymentStatus>('payment', {
  SUCCEEDED: [],
  FAILED: [],
});

