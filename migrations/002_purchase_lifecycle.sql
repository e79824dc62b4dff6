-- The purchase lifecycle: several seats in one payment, refunds, canceled dates.

-- A payment is REFUNDED once its money went back; it keeps paid_at and gains canceled_at. The payments of
-- one multi-seat purchase share the one ledger debit that paid them all (debit_id = its reference).
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('SUCCEEDED', 'FAILED', 'REFUNDED'));
ALTER TABLE payments ADD COLUMN canceled_at timestamptz;
ALTER TABLE payments ADD COLUMN debit_id uuid;
UPDATE payments SET debit_id = id WHERE status = 'SUCCEEDED';
ALTER TABLE payments DROP CONSTRAINT payments_outcome_consistent;
ALTER TABLE payments ADD CONSTRAINT payments_outcome_consistent CHECK (
  (status = 'SUCCEEDED' AND paid_at IS NOT NULL AND failure_code IS NULL AND canceled_at IS NULL AND debit_id IS NOT NULL)
  OR (status = 'REFUNDED' AND paid_at IS NOT NULL AND failure_code IS NULL AND canceled_at IS NOT NULL AND debit_id IS NOT NULL)
  OR (status = 'FAILED' AND paid_at IS NULL AND failure_code IS NOT NULL AND canceled_at IS NULL)
);
-- A refunded reservation was paid once and stays paid once.
DROP INDEX payments_one_success_per_reservation;
CREATE UNIQUE INDEX payments_one_success_per_reservation ON payments (reservation_id)
  WHERE status IN ('SUCCEEDED', 'REFUNDED');

-- Rule: one credit per refund (last word).
CREATE UNIQUE INDEX wallet_ledger_one_refund_per_payment ON wallet_ledger (reference) WHERE kind = 'REFUND';

-- A date the operator canceled takes no holds; its purchases are refunded in batches.
ALTER TABLE schedules ADD COLUMN status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CANCELED'));
ALTER TABLE schedules ADD COLUMN canceled_at timestamptz;
