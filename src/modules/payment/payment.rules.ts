import { StateMachine } from '../../shared/state-machine.js';
import type { PaymentStatus } from './payment.schemas.js';

/**
 * Payment: recorded once, as SUCCEEDED (the debit went through) or FAILED (it did not); SUCCEEDED →
 * REFUNDED when the money goes back. The SQL that refunds guards on this table too.
 */
export const paymentMachine = new StateMachine<PaymentStatus>('payment', {
  SUCCEEDED: ['REFUNDED'],
  REFUNDED: [],
  FAILED: [],
});

