// Events and dates as the screens need them. The event list changes rarely, so it is fetched once and shared
// (seat counts are always fetched fresh); an event or date that is gone becomes a readable "not found".
import { api, ApiError } from './api.js';

let eventsPromise = null;

/** The events on sale; `fresh: true` asks the server again instead of reusing the last answer. */
export function getEvents({ fresh = false } = {}) {
  if (fresh || !eventsPromise) {
    eventsPromise = api.events().catch((error) => {
      eventsPromise = null;
      throw error;
    });
  }
  return eventsPromise;
}

/** One event; asks the server again before saying it is gone (it may be newer than the cached list). */
export async function getEvent(eventId) {
  let events = await getEvents();
  let event = events.find((e) => e.id === eventId);
  if (!event) {
    events = await getEvents({ fresh: true });
    event = events.find((e) => e.id === eventId);
  }
  if (!event) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'This event is not on sale any more.' });
  return event;
}

/** One date of an event, with its current seat counts. */
export async function getSchedule(eventId, scheduleId) {
  const schedules = await api.schedules(eventId);
  const schedule = schedules.find((s) => s.id === scheduleId);
  if (!schedule) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'This date is no longer available.' });
  return schedule;
}

/** Every date seen so far, by id, with its event: what the account page needs to say when a purchase's date starts. */
const knownDates = new Map();

/**
 * The dates with these ids, as a Map id → {schedule, event}. A date not seen yet makes it read the catalog
 * again (every event's dates); one it cannot find (an event no longer on sale) is simply left out.
 */
export async function findDates(scheduleIds) {
  if (scheduleIds.some((id) => !knownDates.has(id))) {
    const events = await getEvents({ fresh: true });
    const lists = await Promise.all(events.map((event) => api.schedules(event.id).catch(() => [])));
    events.forEach((event, i) => {
      for (const schedule of lists[i]) knownDates.set(schedule.id, { schedule, event });
    });
  }
  return new Map(scheduleIds.filter((id) => knownDates.has(id)).map((id) => [id, knownDates.get(id)]));
}
