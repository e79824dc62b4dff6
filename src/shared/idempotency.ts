import { createHash } from 'node:crypto';
import type { Queryable } from './db.js';
import { AppError, type ErrorCode } from './errors.js';

/** How long a key is remembered; a retry after this is treated as a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a request decided, stored so a retry replays it: a result, or a domain error that was committed. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; detail: string };

export interface IdempotencyScope {
  userId: string;
  scope: 'charge' | 'payment';
  key: string;
  /** Anything that identifies the request's meaning; a different payload under the same key is refused. */
  request: unknown;
  now: Date;
}

export const requestHash = (request: unknown): string =>
  createHash('sha256').update(JSON.stringify(request)).digest('base64url');

const claimKey = `
  INSERT INTO idempotency_keys (user_id, scope, key, request_hash, expires_at)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (user_id, scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, response = NULL,
        created_at = now(), updated_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= $6
  RETURNING user_id`;

const readKey = `
  SELECT request_hash, response, expires_at FROM idempotency_keys
  WHERE user_id = $1 AND scope = $2 AND key = $3`;

interface StoredKey<T> {
  request_hash: string;
  response: Outcome<T> | null;
  expires_at: Date;
}

const keyParamsOf = (scope: IdempotencyScope) => [scope.userId, scope.scope, scope.key];

const conflict = () => new AppError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used for a different request.');

const storeOutcome = `
  UPDATE idempotency_keys SET response = $4, updated_at = now()
  WHERE user_id = $1 AND scope = $2 AND key = $3`;

export const purgeExpiredKeys = `
  DELETE FROM idempotency_keys
  WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`;

/**
 * Runs `work` once per (user, scope, key), inside the caller's transaction. A concurrent request with
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
  const expiresAt = new Date(scope.now.getTime() + IDEMPOTENCY_KEY_TTL_MS);
  const claimed = await tx.query(claimKey, [...keyParams, hash, expiresAt, scope.now]);
  if (claimed.rowCount === 0) {
    const { rows } = await tx.query<StoredKey<T>>(readKey, keyParams);
    const stored = rows[0];
    if (!stored || stored.request_hash !== hash) throw conflict();
    if (stored.response) return { outcome: stored.response, replayed: true };
  }
  const outcome = await work();
  await tx.query(storeOutcome, [...keyParams, JSON.stringify(outcome)]);
  return { outcome, replayed: false };
}

/**
 * The stored outcome for a key that already completed, read without locking. Lets a retry be answered
 * even when the first attempt changed what the request would now be checked against (a payment
 * ends the queue token that authorized it).
 */
export async function findStoredOutcome<T>(db: Queryable, scope: IdempotencyScope): Promise<Outcome<T> | undefined> {
  const { rows } = await db.query<StoredKey<T>>(readKey, keyParamsOf(scope));
  const stored = rows[0];
  if (!stored?.response || stored.expires_at <= scope.now) return undefined;
  if (stored.request_hash !== requestHash(scope.request)) throw conflict();
  return stored.response;
}

/** Turns a stored failure back into the error it was. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new AppError(outcome.code, outcome.detail);
  return outcome.value;
}
