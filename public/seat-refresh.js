// Keeps the seat map in step with the server: other buyers hold and buy seats all the time, so the seats are
// polled every 2 s, and the line under the map says when the last refresh worked or why it is retrying.
import { api } from './api.js';
import { h } from './dom.js';
import { timeOfDay } from './format.js';
import { inlineProblem } from './messages.js';

const REFRESH_MS = 2000;

/**
 * Polls the date's seats while the screen lives and the turn lasts, handing each answer to `onSeats(list)`.
 * Returns the elements to place under the map and `refresh()`, to ask at once (after a hold changed).
 */
export function liveSeats({ ctx, turn, scheduleId, token, onSeats }) {
  const refreshedEl = h('span', { class: 'muted' });
  const problem = inlineProblem();
  let refreshing = false;

  const showRefreshed = () => {
    refreshedEl.textContent = `last refresh ${timeOfDay()}`;
  };

  async function refresh() {
    if (refreshing || turn.over || !ctx.alive()) return;
    refreshing = true;
    try {
      const list = await api.seats(scheduleId, token);
      if (!ctx.alive()) return;
      onSeats(list);
      problem.hide();
      showRefreshed();
    } catch (error) {
      if (!ctx.alive()) return;
      if (!turn.handle(error)) problem.show(error);
    } finally {
      refreshing = false;
    }
  }
  const poller = setInterval(refresh, REFRESH_MS);
  ctx.onCleanup(() => clearInterval(poller));

  return {
    line: h('p', { class: 'refresh-line' }, 'Seats update live · ', refreshedEl),
    problemEl: problem.el,
    refresh,
    showRefreshed,
  };
}
