-- Core schema. Money is integer minor units (bigint); times are timestamptz.
-- Rules that decide races live here as constraints, not in application code.

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_name   text NOT NULL CHECK (char_length(user_name) BETWEEN 1 AND 64),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wallets (
  user_id     uuid PRIMARY KEY REFERENCES users (id),
  balance     bigint NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Rule: a balance never goes negative (last word).
  CONSTRAINT wallets_balance_non_negative CHECK (balance >= 0),
  CONSTRAINT wallets_balance_ceiling CHECK (balance <= 100000000000)
);

-- Append-only: the balance is always the sum of a user's ledger rows.
CREATE TABLE wallet_ledger (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES wallets (user_id),
  amount      bigint NOT NULL CHECK (amount <> 0),
  kind        text NOT NULL CHECK (kind IN ('CHARGE', 'PAYMENT', 'REFUND')),
  reference   uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT wallet_ledger_sign CHECK ((kind = 'PAYMENT') = (amount < 0))
);
CREATE INDEX wallet_ledger_user_idx ON wallet_ledger (user_id, id);

CREATE TABLE categories (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  category_id integer REFERENCES categories (id),
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schedules (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES events (id),
  start_at    timestamptz NOT NULL,
  end_at      timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_ends_after_start CHECK (end_at > start_at)
);
CREATE INDEX schedules_event_idx ON schedules (event_id, start_at);

-- A seat's status is the fast answer; the reservation row is the record.
-- HELD always names its holder and deadline; AVAILABLE never does.
CREATE TABLE seats (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  schedule_id     uuid NOT NULL REFERENCES schedules (id),
  seat_number     smallint NOT NULL CHECK (seat_number BETWEEN 1 AND 50),
  seat_type       text NOT NULL CHECK (seat_type IN ('STANDARD', 'VIP', 'STANDING')),
  price           bigint NOT NULL CHECK (price >= 0),
  status          text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'SOLD')),
  held_by         uuid REFERENCES users (id),
  hold_expires_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT seats_number_unique UNIQUE (schedule_id, seat_number),
  CONSTRAINT seats_hold_consistent CHECK (
    (status = 'AVAILABLE' AND held_by IS NULL AND hold_expires_at IS NULL)
    OR (status = 'HELD' AND held_by IS NOT NULL AND hold_expires_at IS NOT NULL)
    OR (status = 'SOLD' AND held_by IS NOT NULL AND hold_expires_at IS NULL)
  )
);
CREATE INDEX seats_expired_holds_idx ON seats (hold_expires_at) WHERE status = 'HELD';

CREATE TABLE reservations (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id),
  seat_id      uuid NOT NULL REFERENCES seats (id),
  schedule_id  uuid NOT NULL REFERENCES schedules (id),
  price        bigint NOT NULL CHECK (price >= 0),
  status       text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELED', 'EXPIRED')),
  reserved_at  timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  canceled_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The last word on "one buyer per seat": at most one live reservation per seat.
-- Rule: one buyer per seat (last word).
CREATE UNIQUE INDEX reservations_one_live_per_seat ON reservations (seat_id)
  WHERE status IN ('PENDING', 'CONFIRMED');
CREATE INDEX reservations_user_idx ON reservations (user_id, reserved_at DESC);

CREATE TABLE payments (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        uuid NOT NULL REFERENCES users (id),
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  amount         bigint NOT NULL CHECK (amount >= 0),
  status         text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED')),
  failure_code   text,
  paid_at        timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_outcome_consistent CHECK (
    (status = 'SUCCEEDED' AND paid_at IS NOT NULL AND failure_code IS NULL)
    OR (status = 'FAILED' AND paid_at IS NULL AND failure_code IS NOT NULL)
  )
);
-- The last word on "one debit per reservation".
CREATE UNIQUE INDEX payments_one_success_per_reservation ON payments (reservation_id)
  WHERE status = 'SUCCEEDED';
CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC);

-- A retried request with the same key replays the stored outcome instead of acting twice.
CREATE TABLE idempotency_keys (
  user_id       uuid NOT NULL REFERENCES users (id),
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (user_id, scope, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
