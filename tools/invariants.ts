import pg from 'pg';
import type { Redis } from '../src/shared/redis.js';
import { RedisWaitingRoom } from '../src/modules/queue/waiting-room.redis.js';
import { invariantChecks, totalsSql } from './invariant-checks.js';

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

async function runChecks(db: SqlRunner, options: CheckOptions): Promise<InvariantReport> {
  const eventId = options.eventId ?? null;
  const now = options.now ?? (await db.query('SELECT now() AS now')).rows[0].now;
  const violations: Violation[] = [];
  for (const check of invariantChecks) {
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
