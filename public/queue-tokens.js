// The buyer's place in each event's waiting room (the queue token). It is remembered per user and event,
// so a reload or a trip back to the event keeps the place instead of joining at the back again.
import { api, ApiError } from './api.js';
import { currentUser } from './session.js';
import { forget, load, save } from './storage.js';

const TURN_LOST = new Set(['QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_INVALID']);

const key = (eventId) => `queue.${currentUser()?.id}.${eventId}`;

/** The saved queue token for this event, or null. */
export function queueToken(eventId) {
  return load(key(eventId));
}

export function forgetQueueToken(eventId) {
  forget(key(eventId));
}

/** Joins the event's line and remembers the place; returns the token. */
export async function joinLine(eventId) {
  const ticket = await api.joinQueue(eventId);
  save(key(eventId), ticket.token);
  return ticket.token;
}

/** Gives the place back so the people behind move up; an already expired token has nothing to give. */
export async function leaveLine(eventId) {
  const token = queueToken(eventId);
  forgetQueueToken(eventId);
  if (token) await api.leaveQueue(token).catch(() => undefined);
}

/** True for the errors that mean this token is over (used, timed out or not this user's): join again. */
export function isTurnLost(error) {
  return error instanceof ApiError && TURN_LOST.has(error.code);
}
