-- Operating a live sale: a scheduled opening with a verifiable draw, and the line's live controls.

-- The opening. fairness_seed is drawn when an opening is first scheduled and published only after it;
-- its sha256 is published before. At the opening the pre-queue's join sequence numbers and the order the
-- draw gave them are recorded once (sales_opened_at), so no instance, and no Redis restart, draws twice.
ALTER TABLE events ADD COLUMN sales_start_at timestamptz;
ALTER TABLE events ADD COLUMN sales_opened_at timestamptz;
ALTER TABLE events ADD COLUMN fairness_seed text CHECK (fairness_seed ~ '^[0-9a-f]{64}$');
ALTER TABLE events ADD COLUMN prequeue_seqs bigint[];
ALTER TABLE events ADD COLUMN opening_order bigint[];
ALTER TABLE events ADD CONSTRAINT events_scheduled_opening_has_seed
  CHECK (sales_start_at IS NULL OR fairness_seed IS NOT NULL);
ALTER TABLE events ADD CONSTRAINT events_opening_recorded
  CHECK ((sales_opened_at IS NULL) = (opening_order IS NULL) AND (opening_order IS NULL) = (prequeue_seqs IS NULL)
         AND (sales_opened_at IS NULL OR sales_start_at IS NOT NULL));

-- The line's controls; NULL means the configured default (QUEUE_MAX_ACTIVE, QUEUE_ADMIT_PER_SECOND).
ALTER TABLE events ADD COLUMN queue_paused boolean NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN queue_max_active integer CHECK (queue_max_active BETWEEN 1 AND 100000);
ALTER TABLE events ADD COLUMN queue_admit_per_second integer CHECK (queue_admit_per_second BETWEEN 1 AND 100000);
