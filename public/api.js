// HTTP client for /api/v1. Every failure becomes an ApiError carrying the RFC 9457 problem
// ({type, title, status, code, detail, instance}); messages.js turns it into a sentence a person can act on.

let accessToken = null;

export function setAccessToken(token) {
  accessToken = token ?? null;
}

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = p.code || (status === 0 ? 'NETWORK' : `HTTP_${status}`);
    this.title = p.title || '';
    this.detail = p.detail || '';
    this.problem = p;
  }
}

/** A random key per user action, so a retried charge or payment is applied once. */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What request() answers for a 304: the copy named by `ifNoneMatch` is still current. */
export const NOT_MODIFIED = Symbol('not modified');

/**
 * request('POST', '/api/v1/reservations', { body, queueToken, idempotencyKey, auth })
 * auth defaults to true: sends the signed-in user's bearer token when there is one. With `ifNoneMatch`
 * (an ETag) an unchanged answer is NOT_MODIFIED; `onHeaders(headers)` sees every successful answer's headers.
 */
export async function request(method, path, options = {}) {
  const { body, queueToken, idempotencyKey, auth = true, signal, ifNoneMatch, onHeaders } = options;
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (queueToken) headers['X-Queue-Token'] = queueToken;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (ifNoneMatch) headers['If-None-Match'] = ifNoneMatch;

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'NETWORK', title: 'Network error', detail: 'Cannot reach the server.' });
  }

  if (response.status === 304) return NOT_MODIFIED;
  const text = await response.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, data ?? { title: response.statusText || 'Request failed' });
  }
  onHeaders?.(response.headers);
  return data;
}

export const api = {
  createUser: (userName) => request('POST', '/api/v1/users', { body: { userName }, auth: false }),

  events: () => request('GET', '/api/v1/events', { auth: false }),
  schedules: (eventId) => request('GET', `/api/v1/events/${encodeURIComponent(eventId)}/schedules`, { auth: false }),

  joinQueue: (eventId) => request('POST', '/api/v1/queue/tokens', { body: { eventId } }),
  queueStatus: (queueToken) => request('GET', '/api/v1/queue/tokens/current', { queueToken }),
  // Leaving takes the bearer as well: the queue token alone travels in stream URLs.
  leaveQueue: (queueToken) => request('DELETE', '/api/v1/queue/tokens/current', { queueToken, auth: true }),
  queueStreamUrl: (queueToken) => `/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(queueToken)}`,

  seats: (scheduleId, queueToken) =>
    request('GET', `/api/v1/schedules/${encodeURIComponent(scheduleId)}/seats`, { queueToken }),
  /** The seats and their ETag, or null when the map is still the one `etag` names (304, no body). */
  seatsIfChanged: async (scheduleId, queueToken, etag) => {
    let tag = null;
    const seats = await request('GET', `/api/v1/schedules/${encodeURIComponent(scheduleId)}/seats`, {
      queueToken,
      ifNoneMatch: etag,
      onHeaders: (headers) => (tag = headers.get('ETag')),
    });
    return seats === NOT_MODIFIED ? null : { seats, etag: tag };
  },
  seatStreamUrl: (scheduleId, queueToken) =>
    `/api/v1/schedules/${encodeURIComponent(scheduleId)}/seats/stream?token=${encodeURIComponent(queueToken)}`,

  hold: (scheduleId, seatNumber, queueToken) =>
    request('POST', '/api/v1/reservations', { body: { scheduleId, seatNumber }, queueToken }),
  // Ends a reservation: releases a pending hold, or refunds a purchase while the refund window is open.
  cancelReservation: (reservationId, idempotencyKey) =>
    request('DELETE', `/api/v1/reservations/${encodeURIComponent(reservationId)}`, { idempotencyKey }),
  myReservations: () => request('GET', '/api/v1/users/me/reservations'),

  balance: () => request('GET', '/api/v1/users/me/balance'),
  charge: (amount) =>
    request('POST', '/api/v1/users/me/balance/charges', { body: { amount }, idempotencyKey: newIdempotencyKey() }),
  balanceHistory: () => request('GET', '/api/v1/users/me/balance/history'),

  /** Pays the holds with one debit of the total; answers `{payments, amount}` whether one hold was paid or several. */
  pay: async (reservationIds, queueToken, idempotencyKey) => {
    const body = reservationIds.length === 1 ? { reservationId: reservationIds[0] } : { reservationIds };
    const answer = await request('POST', '/api/v1/payments', { body, queueToken, idempotencyKey });
    return Array.isArray(answer?.payments) ? answer : { payments: [answer], amount: answer.amount };
  },
  myPayments: () => request('GET', '/api/v1/users/me/payments'),
};
