// Dates the organizer canceled. Such a date shows as canceled in the date list and never opens its waiting
// room or seat map: a buyer who gets there anyway (an old link, or a cancel while they shop) is told so
// and taken back to the event's dates.
import { ApiError } from './api.js';
import { describeError, notify } from './messages.js';
import { go, hashes } from './nav.js';

export const isCanceled = (schedule) => schedule?.status === 'CANCELED';

/** Says the date was canceled and shows the event's dates instead. */
export function leaveCanceledDate(eventId) {
  notify(describeError(new ApiError(409, { code: 'SCHEDULE_CANCELED' })), { keep: true });
  go(hashes.event(eventId), { replace: true });
}
