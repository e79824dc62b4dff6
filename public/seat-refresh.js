// Keeps the seat map in step with the server: other buyers hold and buy seats all the time. The server pushes
// every change on a Server-Sent Events stream of the date; without one (no EventSource, a proxy that drops it)
// the map is polled every 2 s, each poll sending the ETag of the map shown so an unchanged map costs a 304.
// The line under the map says which, when the last refresh worked, or why it is retrying.
import { api } from './api.js';
import { h } from './dom.js';
import { timeOfDay } from './format.js';
import { followStream } from './event-stream.js';
import { inlineProblem } from './messages.js';

const REFRESH_MS = 2000;

/**
 * Follows the date's seats while the screen lives and the turn lasts, handing each new map to `onSeats(list)`.
 * Returns the elements to place under the map and `refresh()`, to ask at once (after a hold changed).
 */
export function liveSeats({ ctx, turn, scheduleId, token, onSeats }) {
  const modeEl = h('span', { 'data-testid': 'seat-mode' }, 'Seats update live');
  const refreshedEl = h('span', { class: 'muted' });
  const problem = inlineProblem();
  let etag = null; // of the map on screen
  let refreshing = false;
  let poller = null;
  let source = null;

  const showRefreshed = () => {
    refreshedEl.textContent = `last refresh ${timeOfDay()}`;
  };

  const show = (list, tag) => {
    etag = tag || null;
    onSeats(list);
    problem.hide();
    showRefreshed();
  };

  async function refresh() {
    if (refreshing || turn.over || !ctx.alive()) return;
    refreshing = true;
    try {
      const answer = await api.seatsIfChanged(scheduleId, token, etag);
      if (!ctx.alive()) return;
      if (answer) show(answer.seats, answer.etag);
      else {
        problem.hide();
        showRefreshed();
      }
    } catch (error) {
      if (!ctx.alive()) return;
      if (!turn.handle(error)) problem.show(error);
    } finally {
      refreshing = false;
    }
  }

  const closeStream = () => {
    source?.close();
    source = null;
  };

  const poll = () => {
    closeStream();
    if (poller) return;
    modeEl.textContent = 'Seats refresh every 2 s';
    modeEl.dataset.mode = 'polling';
    poller = setInterval(refresh, REFRESH_MS);
  };

  const stream = () => {
    source = followStream(api.seatStreamUrl(scheduleId, token), {
      onOpen: () => {
        modeEl.dataset.mode = 'live';
      },
      onMessage: (message, event) => {
        if (turn.over || !ctx.alive()) return;
        if (Array.isArray(message)) show(message, event.lastEventId);
        // The turn is over: the next poll's answer says why, and the turn's handler takes the buyer on.
        else if (message?.status === 'EXPIRED') {
          poll();
          refresh();
        }
      },
      // Refused (the turn ended meanwhile), dropped, or not offered by this server: polling takes over for
      // the rest of this visit, and its first answer says what happened.
      onFail: () => {
        if (turn.over || !ctx.alive()) return closeStream();
        poll();
        refresh();
      },
    }) ?? null;
  };

  ctx.onCleanup(() => {
    clearInterval(poller);
    closeStream();
  });
  stream();

  return {
    line: h('p', { class: 'refresh-line' }, modeEl, ' · ', refreshedEl),
    problemEl: problem.el,
    refresh,
    showRefreshed,
  };
}
