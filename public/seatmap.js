// The seat map screen, for a buyer whose turn it is: loads the date's seats and any holds from an earlier visit,
// lays out the map, the "Your seat" panel and the wallet, and wires them to the hold flow and the live refresh.
import { api } from './api.js';
import { isCanceled, leaveCanceledDate } from './canceled-date.js';
import { getEvent, getSchedule } from './catalog-cache.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { holdPanel } from './hold-panel.js';
import { go, hashes } from './nav.js';
import { queueToken } from './queue-tokens.js';
import { seatGrid } from './seat-grid.js';
import { seatHold } from './seat-hold.js';
import { liveSeats } from './seat-refresh.js';
import { seatTurn } from './seat-turn.js';
import { refreshBalance, walletPanel } from './wallet.js';

export async function seatsView(view, ctx, eventId, scheduleId) {
  const token = queueToken(eventId);
  if (!token) {
    go(hashes.queue(eventId, scheduleId), { replace: true });
    return;
  }

  const [event, schedule, firstSeats, reservations] = await Promise.all([
    getEvent(eventId),
    getSchedule(eventId, scheduleId),
    api.seats(scheduleId, token).catch((error) => error),
    api.myReservations().catch(() => []),
    refreshBalance(),
  ]);
  if (!ctx.alive()) return;
  if (isCanceled(schedule)) {
    leaveCanceledDate(eventId);
    return;
  }
  const turn = seatTurn(eventId, scheduleId);
  if (firstSeats instanceof Error) {
    if (turn.handle(firstSeats)) return;
    throw firstSeats;
  }

  // Holds from an earlier visit (a reload) keep counting down where they were.
  const existing = (Array.isArray(reservations) ? reservations : [])
    .filter((r) => r.scheduleId === scheduleId && r.status === 'PENDING' && Date.parse(r.expiresAt) > Date.now())
    .sort((a, b) => Date.parse(a.reservedAt) - Date.parse(b.reservedAt));

  const grid = seatGrid((n) => flow.pick(n));
  const panel = holdPanel({ onPay: () => flow.pay(), onRelease: (hold) => flow.release(hold), onSeveral: (on) => flow.setSeveral(on) });
  const live = liveSeats({ ctx, turn, scheduleId, token, onSeats: (list) => flow.applySeats(list) });
  const flow = seatHold({ ctx, turn, event, schedule, token, grid, panel, existing, onChange: () => live.refresh() });
  const wallet = walletPanel({ compact: true });
  ctx.onCleanup(wallet.dispose);

  mount(
    view,
    h('a', { class: 'back', href: hashes.event(eventId) }, '← Change date'),
    h(
      'div',
      { class: 'seat-layout' },
      h(
        'section',
        { class: 'card seat-area' },
        h('p', { class: 'eyebrow' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
        h('h1', {}, event.name),
        grid.counts,
        h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
        grid.grid,
        grid.legendTypes,
        grid.legendStatus,
        live.line,
        live.problemEl,
      ),
      h('aside', { class: 'sidebar' }, panel.el, wallet.el),
    ),
  );

  flow.applySeats(firstSeats);
  flow.renderHold();
  live.showRefreshed();
}
