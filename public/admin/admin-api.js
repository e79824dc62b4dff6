// HTTP client for the operator's endpoints. The admin key travels in X-Admin-Key on every call and lives
// only in this tab (admin-session.js); failures become the shop's ApiError, carrying the RFC 9457 problem.
import { ApiError } from '/api.js';
import { adminKey } from '/admin/admin-session.js';

const enc = encodeURIComponent;

async function request(method, path, { body, key = adminKey() } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers['X-Admin-Key'] = key;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, { code: 'NETWORK', title: 'Network error', detail: 'Cannot reach the server.' });
  }
  const text = await response.text().catch(() => '');
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data ?? { title: response.statusText || 'Request failed' });
  return data;
}

export const adminApi = {
  /** Also how a key is checked at sign-in: a wrong one is refused with 403. */
  events: (key) => request('GET', '/api/v1/admin/events', key ? { key } : {}),
  updateEvent: (eventId, changes) => request('PATCH', `/api/v1/admin/events/${enc(eventId)}`, { body: changes }),
  sales: (eventId) => request('GET', `/api/v1/admin/events/${enc(eventId)}/sales`),
  queue: (eventId) => request('GET', `/api/v1/admin/events/${enc(eventId)}/queue`),
  updateQueue: (eventId, changes) => request('PATCH', `/api/v1/admin/events/${enc(eventId)}/queue`, { body: changes }),
  cancelDate: (scheduleId) => request('POST', `/api/v1/admin/schedules/${enc(scheduleId)}/cancel`),
  fairness: (eventId) => request('GET', `/api/v1/events/${enc(eventId)}/fairness`, { key: null }),
};
