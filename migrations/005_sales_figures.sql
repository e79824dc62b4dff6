-- The operator's figures: an event's purchases are found through its dates' reservations, and the
-- metrics read only the last minute of payments and refunds, so neither scans a table that only grows.
CREATE INDEX reservations_schedule_idx ON reservations (schedule_id);
CREATE INDEX payments_paid_at_idx ON payments (paid_at) WHERE paid_at IS NOT NULL;
CREATE INDEX payments_refunded_at_idx ON payments (canceled_at) WHERE status = 'REFUNDED';
