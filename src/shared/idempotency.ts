import { createHash } from 'node:crypto';
import type { Queryable } from './db.js';
import { AppError, type ErrorCode } from './errors.js';
import * as sql from './idempotency.sql.js';

export { purgeExpiredKeys } from './idempotency.sql.js';

/** How long a key is remembered; a retry after this is treated as a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a request decided, stored so a retry replays it: a result, or a domain error that was committed. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; detail: string };

export interface IdempotencyScope {
  userId: string;
  scope: 'charge' | 'payment' | 'cancel';
  key: string;
  /** Anything that identifies the request's meaning; a different payload under the same key is refused. */
  request: unknown;
  /** The pinned decision time (tests), or null: the database's own clock times the key. */
  now: Date | null;
}

export const requestHash = (request: unknown): string =>
  createHash('sha256').update(JSON.stringify(request)).digest('base64url');

const keyParamsOf = ({ userId, scope, key }: IdempotencyScope) => ({ userId, scope, key });

export const idempotencyConflict = () => new AppError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used for a different request.');

/**
 * Rule: a retried request is answered once. Runs `work` once per (user, scope, key), inside the caller's transaction. A concurrent request with
 * the same key blocks on the key's row until the first commits, then replays its stored outcome;
 * if the first rolled back, the second does the work. Outcomes are stored in the same transaction
 * as the work, so "done" and "remembered as done" can never disagree.
 */
export async function runIdempotent<T>(
  tx: Queryable,
  scope: IdempotencyScope | undefined,
  work: () => Promise<Outcome<T>>,
): Promise<{ outcome: Outcome<T>; replayed: boolean }> {
  if (!scope) return { outcome: await work(), replayed: false };
  const hash = requestHash(scope.request);
  const keyParams = keyParamsOf(scope);
  const claimed = await sql.claimKey.count(tx, { ...keyParams, requestHash: hash, ttlMs: IDEMPOTENCY_KEY_TTL_MS, now: scope.now });
  if (claimed === 0) {
    const stored = await sql.readKey.first(tx, { ...keyParams, now: scope.now });
    if (!stored || stored.requestHash !== hash) throw idempotencyConflict();
    if (stored.response) return { outcome: stored.response as Outcome<T>, replayed: true };
  }
  const outcome = await work();
  await sql.storeOutcome.count(tx, { ...keyParams, response: JSON.stringify(outcome) });
  return { outcome, replayed: false };
}

/**
 * The stored outcome for a key that already completed, read without locking. Lets a retry be answered
 * even when the first attempt changed what the request would now be checked against (a payment
 * ends the queue token that authorized it).
 */
export async function findStoredOutcome<T>(db: Queryable, scope: IdempotencyScope): Promise<Outcome<T> | undefined> {
  const stored = await sql.readKey.first(db, { ...keyParamsOf(scope), now: scope.now });
  if (!stored?.response || !stored.live) return undefined;
  if (stored.requestHash !== requestHash(scope.request)) throw idempotencyConflict();
  return stored.response as Outcome<T>;
}

/** Turns a stored failure back into the error it was. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new AppError(outcome.code, outcome.detail);
  return outcome.value;
}
