import pg from 'pg';
import type { Redis } from '../src/shared/redis.js';
import { RedisWaitingRoom } from '../src/modules/queue/waiting-room.redis.js';

/**
 * The rules a flash sale must never break, checked against PostgreSQL directly (and the waiting room's
 * admission log for FIFO). Nothing here goes through the service: it reads the tables the service
 * writes, so a bug anywhere in the service shows up as a violation.
 */
export type InvariantName =
  | 'one-live-reservation-per-seat'
  | 'seat-matches-reservation'
  | 'sold-confirmed-paid'
  | 'payment-has-ledger-entry'
  | 'balance-equals-ledger'
  | 'balance-non-negative'
  | 'money-conservation'
  | 'refund-has-ledger-entry'
  | 'canceled-date-has-no-live-reservation'
  | 'fifo-admission';

export const invariantDescriptions: Record<InvariantName, string> = {
  'one-live-reservation-per-seat': 'no seat has more than one PENDING/CONFIRMED reservation',
  'seat-matches-reservation':
    'a seat held (unexpired) has exactly one live PENDING reservation by its holder, a live PENDING reservation has its seat HELD by its user',
  'sold-confirmed-paid':
    'SOLD seats = CONFIRMED reservations = SUCCEEDED payments, row by row: each SOLD seat has one CONFIRMED reservation by its holder, each CONFIRMED reservation one SUCCEEDED payment of its price by its user, and nothing else has one',
  'payment-has-ledger-entry':
    'every debit (the payments of one purchase, SUCCEEDED or since REFUNDED) has exactly one PAYMENT ledger row of their total, and every PAYMENT ledger row belongs to one',
  'refund-has-ledger-entry':
    'every REFUNDED payment has exactly one REFUND ledger row of its amount and its reservation is CANCELED, and every REFUND row belongs to a REFUNDED payment',
  'canceled-date-has-no-live-reservation': 'a CANCELED date has no PENDING or CONFIRMED reservation',
  'balance-equals-ledger': "for every user, balance = sum of the user's ledger",
  'balance-non-negative': 'no balance is below zero',
  'money-conservation': 'charges - payments (successful, refunded or not) + refunds = balances',
  'fifo-admission': 'admission order equals queue order: the admitted join sequence numbers strictly increase',
};

export interface Violation {
  invariant: InvariantName;
  message: string;
  /** Up to 10 offending rows. */
  sample?: unknown[];
}

export interface InvariantFigures {
  seatsSold: number;
  seatsHeld: number;
  reservationsConfirmed: number;
  reservationsPending: number;
  paymentsSucceeded: number;
  paymentsFailed: number;
  users: number;
  charged: string;
  paid: string;
  balances: string;
  eventsChecked: number;
  admissionsChecked: number;
}

export interface InvariantReport {
  violations: Violation[];
  figures: InvariantFigures;
}

/** Anything that runs SQL: a pg Pool or Client (possibly inside a transaction the caller owns). */
export interface SqlRunner {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export interface CheckOptions {
  /** Limit the seat/reservation/payment checks to one event, and the money checks to users who reserved in it. */
  eventId?: string;
  /** Holds expiring after this are live; defaults to the database's clock. */
  now?: Date;
  /** The waiting room's admission log, for the FIFO check (e.g. `waitingRoom.admissionLog`). */
  admissionLog?: (eventId: string) => Promise<number[]>;
  /** Or a Redis client with the service's key prefix, read through the same adapter the service uses. */
  redis?: Redis;
}

const SAMPLE = 10;

/** Schedules and users in scope: $1 = event id or null (everything). */
const scoped = {
  schedules: `(SELECT id FROM schedules WHERE $1::uuid IS NULL OR event_id = $1::uuid)`,
  users: `(SELECT id FROM users WHERE $1::uuid IS NULL
           UNION SELECT r.user_id FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id WHERE sc.event_id = $1::uuid)`,
};

// These checks restate the rules in their own SQL on purpose (a live hold is `expires_at > now`, and so
// on) rather than importing the service's fragments: a checker that shares the code it checks cannot
// catch a bug in it.
const checks: { invariant: InvariantName; sql: string; message: (rows: any[]) => string }[] = [
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
const totalsSql = `
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

async function runChecks(db: SqlRunner, options: CheckOptions): Promise<InvariantReport> {
  const eventId = options.eventId ?? null;
  const now = options.now ?? (await db.query('SELECT now() AS now')).rows[0].now;
  const violations: Violation[] = [];
  for (const check of checks) {
    const params = check.sql.includes('$2') ? [eventId, now] : [eventId];
    const { rows } = await db.query(check.sql, params);
    if (rows.length > 0) violations.push({ invariant: check.invariant, message: check.message(rows), sample: rows.slice(0, SAMPLE) });
  }

  const totals = (await db.query(totalsSql, [eventId, now])).rows[0];
  const sold = totals.seats_sold as number;
  const confirmed = totals.reservations_confirmed as number;
  const succeeded = totals.payments_succeeded as number;
  if (!(sold === confirmed && confirmed === succeeded) && !violations.some((v) => v.invariant === 'sold-confirmed-paid')) {
    violations.push({
      invariant: 'sold-confirmed-paid',
      message: `SOLD seats ${sold}, CONFIRMED reservations ${confirmed}, SUCCEEDED payments ${succeeded}`,
    });
  }
  const charged = BigInt(totals.charged);
  const refunded = BigInt(totals.refunded);
  const paid = BigInt(totals.paid);
  const balances = BigInt(totals.balances);
  if (charged - paid + refunded !== balances) {
    violations.push({
      invariant: 'money-conservation',
      message: `charges ${charged} - payments ${paid} + refunds ${refunded} = ${charged - paid + refunded}, but balances sum to ${balances}`,
    });
  }

  const log = options.admissionLog ?? (options.redis ? logFromRedis(options.redis) : undefined);
  let eventsChecked = 0;
  let admissionsChecked = 0;
  if (log) {
    const eventIds = options.eventId ? [options.eventId] : (await db.query('SELECT id FROM events ORDER BY created_at')).rows.map((row) => row.id as string);
    for (const id of eventIds) {
      const admitted = await log(id);
      eventsChecked++;
      admissionsChecked += admitted.length;
      const breaks: { index: number; previous: number; next: number }[] = [];
      for (let i = 1; i < admitted.length; i++) {
        if (!(admitted[i]! > admitted[i - 1]!)) breaks.push({ index: i, previous: admitted[i - 1]!, next: admitted[i]! });
      }
      if (breaks.length > 0) {
        violations.push({
          invariant: 'fifo-admission',
          message: `event ${id}: ${breaks.length} admission(s) out of queue order among ${admitted.length}`,
          sample: breaks.slice(0, SAMPLE),
        });
      }
    }
  }

  return {
    violations,
    figures: {
      seatsSold: sold,
      seatsHeld: totals.seats_held,
      reservationsConfirmed: confirmed,
      reservationsPending: totals.reservations_pending,
      paymentsSucceeded: succeeded,
      paymentsFailed: totals.payments_failed,
      users: totals.users,
      charged: charged.toString(),
      paid: paid.toString(),
      balances: balances.toString(),
      eventsChecked,
      admissionsChecked,
    },
  };
}

function logFromRedis(redis: Redis): (eventId: string) => Promise<number[]> {
  // Reading the admission log writes nothing, so the line lifetime a room renews to never applies.
  const room = new RedisWaitingRoom(redis, { tokenTtlMs: 0 });
  return (eventId) => room.admissionLog(eventId);
}

/**
 * Checks every invariant and returns the report. Given a connection string, it reads one consistent
 * snapshot (a REPEATABLE READ, READ ONLY transaction), so a sale still in progress cannot produce a
 * false alarm. Given a pool or client, it runs the queries as they are: pass a client inside a
 * transaction to check a state that has not been committed (the test suite does, to prove the checker fails).
 */
export async function inspectInvariants(db: string | SqlRunner, options: CheckOptions = {}): Promise<InvariantReport> {
  if (typeof db !== 'string') return runChecks(db, options);
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const report = await runChecks(client, options);
    await client.query('COMMIT');
    return report;
  } finally {
    await client.end();
  }
}

/** The list of violations; empty when every invariant holds. */
export async function checkInvariants(db: string | SqlRunner, options: CheckOptions = {}): Promise<Violation[]> {
  return (await inspectInvariants(db, options)).violations;
}
