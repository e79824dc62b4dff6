// The buyer's turn at the seat map can end on the server at any moment (used, timed out, another user's,
// or not begun yet), and the date itself can be canceled. This notices either in any answer, stops the screen's
// work, and leaves for the right screen.
import { ApiError } from './api.js';
import { leaveCanceledDate } from './canceled-date.js';
import { describeError, notify, reportError } from './messages.js';
import { go, hashes } from './nav.js';
import { forgetQueueToken, isTurnLost } from './queue-tokens.js';

/** { over, end(), handle(error) } for one visit to the seat map of an event's date. */
export function seatTurn(eventId, scheduleId) {
  let over = false;
  const end = () => {
    over = true;
    forgetQueueToken(eventId);
  };
  return {
    /** True once the turn is over: no more refreshes or holds. */
    get over() {
      return over;
    },
    /** The turn is used up (the server ends it after a purchase): stop, and forget the token. */
    end,
    /** Returns true when the error meant "your turn is over / not yet / the date is canceled" and was handled. */
    handle(error) {
      if (!(error instanceof ApiError)) return false;
      if (error.code === 'QUEUE_NOT_ADMITTED') {
        over = true;
        go(hashes.queue(eventId, scheduleId), { replace: true });
        return true;
      }
      if (isTurnLost(error)) {
        end();
        notify(describeError(error), { keep: true });
        go(hashes.event(eventId), { replace: true });
        return true;
      }
      if (error.code === 'SCHEDULE_CANCELED') {
        over = true;
        leaveCanceledDate(eventId);
        return true;
      }
      if (error.code === 'UNAUTHORIZED') {
        over = true;
        reportError(error);
        return true;
      }
      return false;
    },
  };
}
