// The buyer's place in each event's waiting room (the queue token). It is remembered per user and event,
// so a reload or a trip back to the event keeps the place instead of joining at the back again.
import { currentUser } from './session.js';
import { forget, load, save } from './storage.js';

const key = (eventId) => `queue.${currentUser()?.id}.${eventId}`;

/** The saved queue token for this event, or null. */
export function queueToken(eventId) {
  return load(key(eventId));
}

export function saveQueueToken(eventId, token) {
  save(key(eventId), token);
}

export function forgetQueueToken(eventId) {
  forget(key(eventId));
}
