// The seat map: 50 seats colored by type and status, refreshed every 2 s; hold, countdown, pay.
import { api, ApiError, newIdempotencyKey } from './api.js';
import { getEvent, getSchedule } from './catalog-cache.js';
import { confirmationKey } from './confirmation.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { holdPanel, toHold } from './hold-panel.js';
import { seatGrid, STATUS_WORD } from './seat-grid.js';
import { describeError, inlineProblem, notify, reportError } from './messages.js';
import { go, hashes } from './nav.js';
import { forgetQueueToken, isTurnLost, queueToken } from './queue-tokens.js';
import { save } from './storage.js';
import { onBalance, refreshBalance, walletPanel } from './wallet.js';

const REFRESH_MS = 2000;

export async function seatsView(view, ctx, eventId, scheduleId) {
  const eventHash = hashes.event(eventId);
  const queueHash = hashes.queue(eventId, scheduleId);
  const token = queueToken(eventId);
  if (!token) {
    go(queueHash, { replace: true });
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
  if (firstSeats instanceof Error) {
    if (firstSeats instanceof ApiError && firstSeats.code === 'QUEUE_NOT_ADMITTED') {
      go(queueHash, { replace: true });
      return;
    }
    if (isTurnLost(firstSeats)) {
      forgetQueueToken(eventId);
      notify(describeError(firstSeats), { keep: true });
      go(eventHash, { replace: true });
      return;
    }
    throw firstSeats;
  }

  // ---- state ----
  /** @type {Map<number, {seatNumber:number, seatType:string, price:number, status:string}>} */
  const seats = new Map();
  let hold = null; // {id, seatNumber, seatType, price, deadline, ttlMs, payKey}
  let busy = false; // a hold or pay request is in flight
  let lost = false; // queue token gone: stop everything
  let refreshing = false;

  const existing = (Array.isArray(reservations) ? reservations : []).find(
    (r) => r.scheduleId === scheduleId && r.status === 'PENDING' && Date.parse(r.expiresAt) > Date.now(),
  );
  if (existing) hold = toHold(existing, { restored: true });

  // ---- elements ----
  const { grid, buttons, legendTypes, legendStatus, counts, render: renderGrid } = seatGrid(onSeatClick);
  const refreshedEl = h('span', { class: 'muted' });
  const problem = inlineProblem();
  const panel = holdPanel({ onPay, onRelease });

  const wallet = walletPanel({ compact: true });
  ctx.onCleanup(wallet.dispose);
  ctx.onCleanup(onBalance(() => renderHold()));

  mount(
    view,
    h('a', { class: 'back', href: eventHash }, '← Change date'),
    h(
      'div',
      { class: 'seat-layout' },
      h(
        'section',
        { class: 'card seat-area' },
        h('p', { class: 'eyebrow' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
        h('h1', {}, event.name),
        counts,
        h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
        grid,
        legendTypes,
        legendStatus,
        h('p', { class: 'refresh-line' }, 'Seats update live · ', refreshedEl),
        problem.el,
      ),
      h('aside', { class: 'sidebar' }, panel.el, wallet.el),
    ),
  );

  // ---- rendering ----
  function applySeats(list) {
    for (const seat of list) seats.set(Number(seat.seatNumber), { ...seat, seatNumber: Number(seat.seatNumber) });
    if (hold && seats.has(hold.seatNumber)) {
      // Our own hold shows as HELD; make sure the map agrees even before the next refresh.
      const mine = seats.get(hold.seatNumber);
      hold.seatType ??= mine.seatType;
      if (mine.status === 'AVAILABLE' && hold.deadline > Date.now()) mine.status = 'HELD';
    }
    renderSeats();
  }

  function renderSeats() {
    renderGrid(seats, hold?.seatNumber);
  }

  function renderHold() {
    panel.render(hold, busy);
    tick();
  }

  // ---- countdown ----
  function tick() {
    if (!hold) return;
    const left = panel.showTimeLeft(hold);
    if (left <= 0 && !busy) onHoldExpired();
  }
  const ticker = setInterval(tick, 250);
  ctx.onCleanup(() => clearInterval(ticker));

  function onHoldExpired() {
    const n = hold.seatNumber;
    hold = null;
    const seat = seats.get(n);
    if (seat && seat.status === 'HELD') seat.status = 'AVAILABLE';
    notify(describeError(new ApiError(410, { code: 'RESERVATION_EXPIRED' }), { seatNumber: n }));
    redraw();
  }

  /** After a hold changed (taken, released, paid, expired): show it, and let the server confirm the map. */
  function redraw() {
    if (!ctx.alive()) return;
    renderHold();
    renderSeats();
    refreshSeats();
  }

  // ---- server calls ----
  async function refreshSeats() {
    if (refreshing || lost || !ctx.alive()) return;
    refreshing = true;
    try {
      const list = await api.seats(scheduleId, token);
      if (!ctx.alive()) return;
      applySeats(list);
      problem.hide();
      refreshedEl.textContent = `last refresh ${fmt.timeOfDay()}`;
    } catch (error) {
      if (!ctx.alive()) return;
      if (!handleQueueErrors(error)) {
        problem.show(error);
      }
    } finally {
      refreshing = false;
    }
  }
  const poller = setInterval(refreshSeats, REFRESH_MS);
  ctx.onCleanup(() => clearInterval(poller));

  /** Returns true when the error meant "your turn is over / not yet" and was handled. */
  function handleQueueErrors(error) {
    if (!(error instanceof ApiError)) return false;
    if (error.code === 'QUEUE_NOT_ADMITTED') {
      lost = true;
      go(queueHash, { replace: true });
      return true;
    }
    if (isTurnLost(error)) {
      lost = true;
      forgetQueueToken(eventId);
      notify(describeError(error), { keep: true });
      go(eventHash, { replace: true });
      return true;
    }
    if (error.code === 'UNAUTHORIZED') {
      lost = true;
      reportError(error);
      return true;
    }
    return false;
  }

  async function onSeatClick(n) {
    if (busy || lost) return;
    if (hold?.seatNumber === n) return;
    const seat = seats.get(n);
    if (!seat) return;
    if (seat.status !== 'AVAILABLE') {
      notify(`Seat ${n} is ${STATUS_WORD[seat.status] ?? 'not available'}. Please pick another seat.`);
      return;
    }
    busy = true;
    const button = buttons.get(n);
    button.classList.add('pending');
    button.setAttribute('aria-busy', 'true');
    const previous = hold;
    try {
      const reservation = await api.hold(scheduleId, n, token);
      if (!ctx.alive()) return;
      hold = toHold({ ...reservation, seatType: reservation.seatType ?? seat.seatType, seatNumber: reservation.seatNumber ?? n });
      seat.status = 'HELD';
      if (previous) {
        // Switching seats: the new hold succeeded, now let the old one go.
        api.release(previous.id).catch(() => {});
        const old = seats.get(previous.seatNumber);
        if (old) old.status = 'AVAILABLE';
      }
    } catch (error) {
      if (!ctx.alive()) return;
      if (error instanceof ApiError && error.code === 'SEAT_UNAVAILABLE') {
        seat.status = 'HELD';
        notify(describeError(error, { seatNumber: n }));
      } else if (!handleQueueErrors(error)) {
        reportError(error, { seatNumber: n, action: 'hold' });
      }
    } finally {
      busy = false;
      button.classList.remove('pending');
      button.removeAttribute('aria-busy');
      redraw();
    }
  }

  /** Puts the panel in its busy state for a request on the current hold, and returns that hold (null: nothing to do). */
  function beginHoldRequest() {
    if (!hold || busy) return null;
    busy = true;
    renderHold();
    return hold;
  }

  async function onRelease() {
    const released = beginHoldRequest();
    if (!released) return;
    try {
      await api.release(released.id);
      hold = null;
      const seat = seats.get(released.seatNumber);
      if (seat) seat.status = 'AVAILABLE';
      notify(`Seat ${released.seatNumber} released.`, { kind: 'info' });
    } catch (error) {
      if (error instanceof ApiError && ['RESERVATION_EXPIRED', 'RESERVATION_NOT_PAYABLE', 'NOT_FOUND'].includes(error.code)) {
        hold = null; // nothing left to release
      } else {
        reportError(error, { seatNumber: released.seatNumber });
      }
    } finally {
      busy = false;
      redraw();
    }
  }

  async function onPay() {
    const paying = beginHoldRequest();
    if (!paying) return;
    paying.payKey ??= newIdempotencyKey(); // a retry of this payment is never a second debit
    try {
      const payment = await api.pay(paying.id, token, paying.payKey);
      forgetQueueToken(eventId); // the server ends the turn after a purchase
      save(confirmationKey(payment.id), {
        payment,
        seat: { seatNumber: paying.seatNumber, seatType: paying.seatType },
        event: { id: event.id, name: event.name },
        schedule: { id: schedule.id, startAt: schedule.startAt, endAt: schedule.endAt },
      });
      hold = null;
      lost = true;
      await refreshBalance();
      go(hashes.confirmation(payment.id));
      return;
    } catch (error) {
      if (!ctx.alive()) return;
      const code = error instanceof ApiError ? error.code : '';
      if (['INSUFFICIENT_BALANCE', 'RESERVATION_EXPIRED', 'RESERVATION_NOT_PAYABLE'].includes(code)) {
        // The server released (or already closed) the hold: show why and free the panel.
        hold = null;
        const seat = seats.get(paying.seatNumber);
        if (seat && seat.status === 'HELD') seat.status = 'AVAILABLE';
        notify(describeError(error, { seatNumber: paying.seatNumber }));
        refreshBalance();
      } else if (!handleQueueErrors(error)) {
        reportError(error, { seatNumber: paying.seatNumber, action: 'pay' });
      }
    } finally {
      busy = false;
    }
    redraw();
  }

  applySeats(firstSeats);
  renderHold();
  refreshedEl.textContent = `last refresh ${fmt.timeOfDay()}`;
}
