import type { InvariantName } from './invariants.js';

/**
 * The SQL of the invariant checker (tools/invariants.ts), one statement per invariant, and the totals
 * the conservation check adds up. $1 is the event in scope (or null for everything), $2 the time a hold
 * is judged live at.
 */

/** Schedules and users in scope: $1 = event id or null (everything). */
const scoped = {
  schedules: `(SELECT id FROM schedules WHERE $1::uuid IS NULL OR event_id = $1::uuid)`,
  users: `(SELECT id FROM users WHERE $1::uuid IS NULL
           UNION SELECT r.user_id FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id WHERE sc.event_id = $1::uuid)`,
};

// These checks restate the rules in their own SQL on purpose (a live hold is `expires_at > now`, and so
// on) rather than importing the service's fragments: a checker that shares the code it checks cannot
// catch a bug in it.
export const invariantChecks: { invariant: InvariantName; sql: string; message: (rows: any[]) => string }[] = [
  {
    invariant: 'one-live-reservation-per-seat',
    sql: `
      SELECT r.seat_id, count(*)::int AS live, array_agg(r.id) AS reservations
      FROM reservations r
      WHERE r.status IN ('PENDING', 'CONFIRMED') AND r.schedule_id IN ${scoped.schedules}
      GROUP BY r.seat_id HAVING count(*) > 1`,
    message: (rows) => `${rows.length} seat(s) have more than one PENDING/CONFIRMED reservation`,
  },
  {
    invariant: 'seat-matches-reservation',
    sql: `
      SELECT 'held seat without its live reservation' AS problem, s.id AS seat_id, s.status, s.held_by, NULL::uuid AS reservation_id
      FROM seats s
      WHERE s.schedule_id IN ${scoped.schedules} AND s.status = 'HELD' AND s.hold_expires_at > $2
        AND (SELECT count(*) FROM reservations r
             WHERE r.seat_id = s.id AND r.status = 'PENDING' AND r.user_id = s.held_by AND r.expires_at > $2) <> 1
      UNION ALL
      SELECT 'live reservation whose seat is not held by its user', s.id, s.status, s.held_by, r.id
      FROM reservations r JOIN seats s ON s.id = r.seat_id
      WHERE r.schedule_id IN ${scoped.schedules} AND r.status = 'PENDING' AND r.expires_at > $2
        AND NOT (s.status = 'HELD' AND s.held_by = r.user_id)`,
    message: (rows) => `${rows.length} seat/reservation pair(s) disagree`,
  },
  {
    invariant: 'sold-confirmed-paid',
    sql: `
      SELECT 'SOLD seat without exactly one CONFIRMED reservation by its holder' AS problem, s.id AS seat_id, NULL::uuid AS reservation_id
      FROM seats s
      WHERE s.schedule_id IN ${scoped.schedules} AND s.status = 'SOLD'
        AND (SELECT count(*) FROM reservations r WHERE r.seat_id = s.id AND r.status = 'CONFIRMED' AND r.user_id = s.held_by) <> 1
      UNION ALL
      SELECT 'CONFIRMED reservation on a seat that is not SOLD to its user', s.id, r.id
      FROM reservations r JOIN seats s ON s.id = r.seat_id
      WHERE r.schedule_id IN ${scoped.schedules} AND r.status = 'CONFIRMED' AND NOT (s.status = 'SOLD' AND s.held_by = r.user_id)
      UNION ALL
      SELECT 'CONFIRMED reservation without exactly one SUCCEEDED payment of its price by its user', r.seat_id, r.id
      FROM reservations r
      WHERE r.schedule_id IN ${scoped.schedules} AND r.status = 'CONFIRMED'
        AND (SELECT count(*) FROM payments p
             WHERE p.reservation_id = r.id AND p.status = 'SUCCEEDED' AND p.amount = r.price AND p.user_id = r.user_id) <> 1
      UNION ALL
      SELECT 'SUCCEEDED payment for a reservation that is not CONFIRMED (or of another amount or user)', r.seat_id, r.id
      FROM payments p JOIN reservations r ON r.id = p.reservation_id
      WHERE r.schedule_id IN ${scoped.schedules} AND p.status = 'SUCCEEDED'
        AND NOT (r.status = 'CONFIRMED' AND p.amount = r.price AND p.user_id = r.user_id)`,
    message: (rows) => `${rows.length} seat/reservation/payment row(s) do not line up`,
  },
  {
    invariant: 'payment-has-ledger-entry',
    sql: `
      WITH debits AS (
        SELECT p.debit_id, p.user_id, sum(p.amount) AS total
        FROM payments p
        WHERE p.user_id IN ${scoped.users} AND p.status IN ('SUCCEEDED', 'REFUNDED')
        GROUP BY p.debit_id, p.user_id
      )
      SELECT 'debit without exactly one PAYMENT ledger row of its total' AS problem, d.debit_id AS payment_id, d.total AS amount
      FROM debits d
      WHERE d.total > 0
        AND (SELECT count(*) FROM wallet_ledger l
             WHERE l.reference = d.debit_id AND l.kind = 'PAYMENT' AND l.amount = -d.total AND l.user_id = d.user_id) <> 1
      UNION ALL
      SELECT 'PAYMENT ledger row without the payments it paid', l.reference, -l.amount
      FROM wallet_ledger l
      WHERE l.user_id IN ${scoped.users} AND l.kind = 'PAYMENT'
        AND NOT EXISTS (SELECT 1 FROM debits d WHERE d.debit_id = l.reference AND d.total = -l.amount AND d.user_id = l.user_id)`,
    message: (rows) => `${rows.length} payment/ledger row(s) do not match`,
  },
  {
    invariant: 'refund-has-ledger-entry',
    sql: `
      SELECT 'REFUNDED payment without exactly one REFUND ledger row of its amount, or with a live reservation' AS problem, p.id AS payment_id
      FROM payments p JOIN reservations r ON r.id = p.reservation_id
      WHERE p.user_id IN ${scoped.users} AND p.status = 'REFUNDED'
        AND (r.status <> 'CANCELED'
             OR (p.amount > 0 AND (SELECT count(*) FROM wallet_ledger l
                                   WHERE l.reference = p.id AND l.kind = 'REFUND' AND l.amount = p.amount AND l.user_id = p.user_id) <> 1))
      UNION ALL
      SELECT 'REFUND ledger row without its REFUNDED payment', l.reference
      FROM wallet_ledger l
      WHERE l.user_id IN ${scoped.users} AND l.kind = 'REFUND'
        AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = l.reference AND p.status = 'REFUNDED' AND p.amount = l.amount AND p.user_id = l.user_id)`,
    message: (rows) => `${rows.length} refund/ledger row(s) do not match`,
  },
  {
    invariant: 'canceled-date-has-no-live-reservation',
    sql: `
      SELECT r.id AS reservation_id, r.status, r.schedule_id
      FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id
      WHERE sc.id IN ${scoped.schedules} AND sc.status = 'CANCELED' AND r.status IN ('PENDING', 'CONFIRMED')`,
    message: (rows) => `${rows.length} live reservation(s) on canceled dates`,
  },
  {
    invariant: 'balance-equals-ledger',
    sql: `
      SELECT w.user_id, w.balance::text, coalesce(l.total, 0)::text AS ledger
      FROM wallets w
      LEFT JOIN (SELECT user_id, sum(amount) AS total FROM wallet_ledger GROUP BY user_id) l ON l.user_id = w.user_id
      WHERE w.user_id IN ${scoped.users} AND w.balance <> coalesce(l.total, 0)`,
    message: (rows) => `${rows.length} user(s) have a balance that is not the sum of their ledger`,
  },
  {
    invariant: 'balance-non-negative',
    sql: `SELECT user_id, balance::text FROM wallets WHERE user_id IN ${scoped.users} AND balance < 0`,
    message: (rows) => `${rows.length} negative balance(s)`,
  },
];

/** Totals for the conservation check and the report: one row. */
export const totalsSql = `
  WITH u AS ${scoped.users}
  SELECT
    (SELECT count(*) FROM seats WHERE schedule_id IN ${scoped.schedules} AND status = 'SOLD')::int AS seats_sold,
    (SELECT count(*) FROM seats WHERE schedule_id IN ${scoped.schedules} AND status = 'HELD' AND hold_expires_at > $2)::int AS seats_held,
    (SELECT count(*) FROM reservations WHERE schedule_id IN ${scoped.schedules} AND status = 'CONFIRMED')::int AS reservations_confirmed,
    (SELECT count(*) FROM reservations WHERE schedule_id IN ${scoped.schedules} AND status = 'PENDING' AND expires_at > $2)::int AS reservations_pending,
    (SELECT count(*) FROM payments p JOIN reservations r ON r.id = p.reservation_id
      WHERE r.schedule_id IN ${scoped.schedules} AND p.status = 'SUCCEEDED')::int AS payments_succeeded,
    (SELECT count(*) FROM payments p JOIN reservations r ON r.id = p.reservation_id
      WHERE r.schedule_id IN ${scoped.schedules} AND p.status = 'FAILED')::int AS payments_failed,
    (SELECT count(*) FROM u)::int AS users,
    (SELECT coalesce(sum(amount), 0) FROM wallet_ledger WHERE user_id IN (SELECT id FROM u) AND kind = 'CHARGE')::text AS charged,
    (SELECT coalesce(sum(amount), 0) FROM wallet_ledger WHERE user_id IN (SELECT id FROM u) AND kind = 'REFUND')::text AS refunded,
    (SELECT coalesce(sum(amount), 0) FROM payments WHERE user_id IN (SELECT id FROM u) AND status IN ('SUCCEEDED', 'REFUNDED'))::text AS paid,
    (SELECT coalesce(sum(balance), 0) FROM wallets WHERE user_id IN (SELECT id FROM u))::text AS balances`;
