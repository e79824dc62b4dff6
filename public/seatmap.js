// The seat map: 50 seats colored by type and status, refreshed every 2 s; hold, countdown, pay.
import { api, ApiError, describeError, newIdempotencyKey } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import {
  getEvent, getSchedule, notify, onBalance, queueTokens, refreshBalance, reportError, state, storage, walletPanel,
} from './ui.js';
import { confirmationKey } from './views.js';

const REFRESH_MS = 2000;
const SEATS_PER_ROW = 10;
const TYPES = ['VIP', 'STANDARD', 'STANDING'];
const STATUS_WORD = { AVAILABLE: 'available', HELD: 'held', SOLD: 'sold' };
const QUEUE_LOST = new Set(['QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_INVALID']);

export async function seatsView(view, ctx, eventId, scheduleId) {
  const eventHash = `#/event/${encodeURIComponent(eventId)}`;
  const queueHash = `#/queue/${encodeURIComponent(eventId)}/${encodeURIComponent(scheduleId)}`;
  const token = queueTokens.get(eventId);
  if (!token) {
    location.replace(queueHash);
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
      location.replace(queueHash);
      return;
    }
    if (firstSeats instanceof ApiError && QUEUE_LOST.has(firstSeats.code)) {
      queueTokens.clear(eventId);
      notify(describeError(firstSeats), { keep: true });
      location.replace(eventHash);
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
  const buttons = new Map();
  const grid = h('div', { class: 'seat-grid', role: 'group', 'aria-label': 'Seat map' });
  for (let n = 1; n <= 50; n += 1) {
    const button = h('button', { class: 'seat', type: 'button', dataset: { seat: String(n) }, onClick: () => onSeatClick(n) }, String(n));
    buttons.set(n, button);
  }
  const rows = [];
  for (let r = 0; r < 50 / SEATS_PER_ROW; r += 1) {
    const label = String.fromCharCode(65 + r);
    rows.push(
      h('div', { class: 'seat-row' },
        h('span', { class: 'row-label', 'aria-hidden': 'true' }, label),
        [...buttons.values()].slice(r * SEATS_PER_ROW, (r + 1) * SEATS_PER_ROW),
        h('span', { class: 'row-label', 'aria-hidden': 'true' }, label)),
    );
  }
  mount(grid, rows);

  const legendTypes = h('ul', { class: 'legend legend-types' });
  const counts = h('p', { class: 'seat-counts', 'data-testid': 'seat-counts' });
  const refreshedEl = h('span', { class: 'muted' });
  const problemEl = h('p', { class: 'inline-problem', hidden: true });
  const holdPanel = h('section', { class: 'card hold-panel', 'aria-live': 'polite', 'aria-label': 'Your seat' });
  // hold countdown (filled by renderHold/tick)
  const countdownValue = h('span', { class: 'countdown-value', 'data-testid': 'countdown' }, '');
  const countdownEl = h('p', { class: 'countdown', role: 'timer', 'aria-label': 'Time left to pay' }, h('span', { class: 'countdown-label' }, 'Held for you for '), countdownValue);
  const progressBar = h('span', { class: 'progress-bar' });
  const progress = h('div', { class: 'progress', 'aria-hidden': 'true' }, progressBar);

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
        h(
          'ul',
          { class: 'legend legend-status' },
          h('li', {}, h('span', { class: 'swatch status-available' }), 'Available'),
          h('li', {}, h('span', { class: 'swatch status-held' }), 'Held by someone'),
          h('li', {}, h('span', { class: 'swatch status-sold' }), 'Sold'),
          h('li', {}, h('span', { class: 'swatch mine' }), 'Your hold'),
        ),
        h('p', { class: 'refresh-line' }, 'Seats update live · ', refreshedEl),
        problemEl,
      ),
      h('aside', { class: 'sidebar' }, holdPanel, wallet.el),
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
    let available = 0;
    const prices = new Map();
    for (const [n, button] of buttons) {
      const seat = seats.get(n);
      if (!seat) {
        button.disabled = true;
        continue;
      }
      const mine = hold?.seatNumber === n;
      const status = seat.status;
      if (status === 'AVAILABLE') available += 1;
      const type = String(seat.seatType);
      if (!prices.has(type)) prices.set(type, new Set());
      prices.get(type).add(Number(seat.price));
      button.className = `seat type-${type.toLowerCase()} status-${String(status).toLowerCase()}${mine ? ' mine' : ''}`;
      button.dataset.status = status;
      button.dataset.type = type;
      if (mine) button.dataset.mine = 'true';
      else delete button.dataset.mine;
      button.disabled = !mine && status !== 'AVAILABLE';
      button.setAttribute('aria-pressed', mine ? 'true' : 'false');
      const word = mine ? 'held by you' : STATUS_WORD[status] ?? String(status).toLowerCase();
      button.setAttribute('aria-label', `Seat ${n}, ${fmt.seatTypeName(type)}, ${fmt.money(seat.price)}, ${word}`);
      button.title = `Seat ${n} · ${fmt.seatTypeName(type)} · ${fmt.money(seat.price)} · ${word}`;
    }
    counts.textContent = `${available} of ${seats.size || 50} seats available`;
    mount(
      legendTypes,
      TYPES.filter((t) => prices.has(t)).map((t) => {
        const list = [...prices.get(t)].sort((a, b) => a - b);
        const price = list.length === 1 ? fmt.money(list[0]) : `${fmt.money(list[0])}–${fmt.money(list.at(-1))}`;
        return h('li', {}, h('span', { class: `swatch type-${t.toLowerCase()}` }), `${fmt.seatTypeName(t)} · ${price}`);
      }),
    );
  }

  function renderHold() {
    if (!hold) {
      holdPanel.dataset.state = 'empty';
      mount(
        holdPanel,
        h('h2', {}, 'Your seat'),
        h('p', { class: 'muted' }, 'Click an available seat to hold it. You then have a few minutes to pay.'),
      );
      return;
    }
    holdPanel.dataset.state = busy ? 'busy' : 'held';
    const short = state.balance !== null && state.balance < hold.price;
    const payButton = h(
      'button',
      { class: 'btn primary large', type: 'button', disabled: busy, onClick: onPay },
      busy ? 'Paying…' : `Pay ${fmt.money(hold.price)}`,
    );
    const releaseButton = h('button', { class: 'btn ghost', type: 'button', disabled: busy, onClick: onRelease }, 'Release seat');
    mount(
      holdPanel,
      h('h2', {}, 'Your seat'),
      h(
        'div',
        { class: 'hold-seat' },
        h('span', { class: `seat-badge type-${String(hold.seatType ?? 'standard').toLowerCase()}` }, String(hold.seatNumber)),
        h('span', { class: 'hold-what' }, h('strong', { 'data-testid': 'held-seat' }, `Seat ${hold.seatNumber}`), h('span', { class: 'muted' }, fmt.seatTypeName(hold.seatType))),
        h('strong', { class: 'hold-price' }, fmt.money(hold.price)),
      ),
      countdownEl,
      progress,
      short
        ? h('p', { class: 'hint warn' }, `Your balance is ${fmt.money(state.balance)}. Add at least ${fmt.money(hold.price - state.balance)} before paying.`)
        : h('p', { class: 'hint' }, 'Paying uses your wallet balance.'),
      h('div', { class: 'actions' }, payButton, releaseButton),
    );
    tick();
  }

  // ---- countdown ----
  function tick() {
    if (!hold) return;
    const left = hold.deadline - Date.now();
    countdownValue.textContent = fmt.clock(left);
    const ratio = hold.ttlMs > 0 ? Math.max(0, Math.min(1, left / hold.ttlMs)) : 0;
    progressBar.style.width = `${(ratio * 100).toFixed(1)}%`;
    const urgent = left <= Math.min(30_000, hold.ttlMs * 0.25);
    countdownEl.classList.toggle('urgent', urgent);
    progress.classList.toggle('urgent', urgent);
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
      problemEl.hidden = true;
      refreshedEl.textContent = `last refresh ${new Date().toLocaleTimeString('en-US')}`;
    } catch (error) {
      if (!ctx.alive()) return;
      if (!handleQueueErrors(error)) {
        problemEl.hidden = false;
        problemEl.textContent = `${describeError(error)} Retrying…`;
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
      location.replace(queueHash);
      return true;
    }
    if (QUEUE_LOST.has(error.code)) {
      lost = true;
      queueTokens.clear(eventId);
      notify(describeError(error), { keep: true });
      location.replace(eventHash);
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
      if (ctx.alive()) {
        renderHold();
        renderSeats();
        refreshSeats();
      }
    }
  }

  async function onRelease() {
    if (!hold || busy) return;
    busy = true;
    renderHold();
    const released = hold;
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
      if (ctx.alive()) {
        renderHold();
        renderSeats();
        refreshSeats();
      }
    }
  }

  async function onPay() {
    if (!hold || busy) return;
    busy = true;
    renderHold();
    const paying = hold;
    paying.payKey ??= newIdempotencyKey(); // a retry of this payment is never a second debit
    try {
      const payment = await api.pay(paying.id, token, paying.payKey);
      queueTokens.clear(eventId); // the server ends the turn after a purchase
      storage.set(confirmationKey(payment.id), {
        payment,
        seat: { seatNumber: paying.seatNumber, seatType: paying.seatType },
        event: { id: event.id, name: event.name },
        schedule: { id: schedule.id, startAt: schedule.startAt, endAt: schedule.endAt },
      });
      hold = null;
      lost = true;
      await refreshBalance();
      location.hash = `#/confirmation/${encodeURIComponent(payment.id)}`;
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
    if (ctx.alive()) {
      renderHold();
      renderSeats();
      refreshSeats();
    }
  }

  applySeats(firstSeats);
  renderHold();
  refreshedEl.textContent = `last refresh ${new Date().toLocaleTimeString('en-US')}`;
}

/**
 * A hold with a local deadline. A fresh hold counts down from the moment its answer arrived
 * (expiresAt − reservedAt), so a browser clock that is off does not shorten or stretch it.
 */
function toHold(r, { restored = false } = {}) {
  const expires = Date.parse(r.expiresAt);
  const reserved = Date.parse(r.reservedAt);
  const ttlMs = Number.isFinite(reserved) && expires > reserved ? expires - reserved : Math.max(0, expires - Date.now());
  return {
    id: r.id,
    seatNumber: Number(r.seatNumber),
    seatType: r.seatType ?? null,
    price: Number(r.price),
    ttlMs,
    deadline: restored ? expires : Date.now() + ttlMs,
  };
}
