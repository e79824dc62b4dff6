import { AppError } from './errors.js';

/**
 * The one place where database and Redis failures become domain errors. Constraint names come from
 * migrations/; a constraint firing here means a race was settled by the database, as designed.
 */
const constraintErrors: Record<string, () => AppError> = {
  reservations_one_live_per_seat: () => new AppError('SEAT_UNAVAILABLE', 'The seat was taken a moment ago.'),
  payments_one_success_per_reservation: () =>
    new AppError('RESERVATION_NOT_PAYABLE', 'The reservation has already been paid.'),
  wallet_ledger_one_refund_per_payment: () => new AppError('RESERVATION_NOT_CANCELABLE', 'The purchase has already been refunded.'),
  wallets_balance_non_negative: () => new AppError('INSUFFICIENT_BALANCE', 'The balance is too low.'),
  wallets_balance_ceiling: () => new AppError('VALIDATION_FAILED', 'The balance would exceed its maximum.'),
};

/** SQLSTATE classes that mean "the database is unreachable or restarting", not "the request is wrong". */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Query read timeout/i,
  /Client was closed and is not queryable/i,
];

interface DatabaseErrorLike {
  code?: string;
  constraint?: string;
  message?: string;
}

export function mapDatabaseError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message = '' } = error as DatabaseErrorLike;
  if (constraint && constraintErrors[constraint]) return constraintErrors[constraint]();
  if (code === '57014') return new AppError('SERVICE_UNAVAILABLE', 'The database took too long to answer.', { cause: error });
  if ((code && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_NODE_CODES.has(code))) || UNAVAILABLE_MESSAGES.some((re) => re.test(message))) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly.', { cause: error });
  }
  // Input the schemas let through but PostgreSQL rejects: a value out of a column's range, a NUL in text.
  if (code === '22021') return new AppError('VALIDATION_FAILED', 'Text may not contain NUL characters.', { cause: error });
  if (code === '22P02' || code === '22003' || code === '22007' || code === '22008') {
    return new AppError('VALIDATION_FAILED', 'A value is out of range.', { cause: error });
  }
  return undefined;
}

/**
 * What ioredis reports once it gives up on a command while Redis is down or restarting, or while a
 * cluster's topology is changing: a node gone, a slot without a master until its replica is promoted
 * (CLUSTERDOWN; the cluster client retries, then reports "Too many Cluster redirections"), a slot being
 * moved (MOVED, ASK, TRYAGAIN), an old master that came back as a replica (READONLY, MASTERDOWN).
 * All of them pass once Redis or the topology settles, so the client is told to retry, never 500.
 */
const REDIS_UNAVAILABLE = [
  /\b(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/,
  /^(MOVED|ASK) \d+ /,
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|Command timed out/,
  /Too many Cluster redirections|Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available|Cluster is (ended|disconnected)/,
];

export function mapRedisError(error: unknown): AppError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    REDIS_UNAVAILABLE.some((pattern) => pattern.test(error.message))
  ) {
    return new AppError('SERVICE_UNAVAILABLE', 'The queue store is unavailable; try again shortly.', { cause: error });
  }
  return undefined;
}
