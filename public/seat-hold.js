// Holding a seat: take one (or switch to another), count the hold down, release it, or pay for it.
// It keeps the screen's own picture of the seats and the hold, so the map answers a click at once,
// and asks for a refresh after every change so the server has the last word.
import { api, ApiError, newIdempotencyKey } from './api.js';
import { rememberConfirmation } from './confirmation.js';
import { describeError, notify, reportError } from './messages.js';
import { go, hashes } from './nav.js';
import { STATUS_WORD } from './seat-grid.js';
import { onBalance, refreshBalance } from './wallet.js';

const GONE_ON_RELEASE = ['RESERVATION_EXPIRED', 'RESERVATION_NOT_PAYABLE', 'NOT_FOUND'];
const GONE_ON_PAY = ['INSUFFICIENT_BALANCE', 'RESERVATION_EXPIRED', 'RESERVATION_NOT_PAYABLE'];

/**
 * A hold with a local deadline. A fresh hold counts down from the moment its answer arrived
 * (expiresAt − reservedAt), so a browser clock that is off does not shorten or stretch it.
 */
export function toHold(r, { restored = false } = {}) {
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

/**
 * The hold flow of one seat map. `grid` and `panel` show the state; `existing` is a pending reservation
 * from an earlier visit; `onChange()` is called after every change so the map is refreshed from the server.
 * Returns `applySeats(list)` for the server's seats, `renderHold()`, and the actions `pick(n)`, `pay()`, `release()`.
 */
export function seatHold({ ctx, turn, event, schedule, token, grid, panel, existing, onChange }) {
  /** @type {Map<number, {seatNumber:number, seatType:string, price:number, status:string}>} */
  const seats = new Map();
  let hold = existing ? toHold(existing, { restored: true }) : null; // {id, seatNumber, seatType, price, deadline, ttlMs, payKey}
  let busy = false; // a hold or pay request is in flight

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
    grid.render(seats, hold?.seatNumber);
  }

  function renderHold() {
    panel.render(hold, busy);
    tick();
  }

  /** Our hold on seat `n` is over: show the seat free until the server says otherwise. */
  function freeSeat(n) {
    const seat = seats.get(n);
    if (seat && seat.status === 'HELD') seat.status = 'AVAILABLE';
  }

  // ---- countdown ----
  function tick() {
    if (!hold) return;
    const left = panel.showTimeLeft(hold);
    if (left <= 0 && !busy) onHoldExpired();
  }
  const ticker = setInterval(tick, 250);
  ctx.onCleanup(() => clearInterval(ticker));
  ctx.onCleanup(onBalance(() => renderHold()));

  function onHoldExpired() {
    const n = hold.seatNumber;
    hold = null;
    freeSeat(n);
    notify(describeError(new ApiError(410, { code: 'RESERVATION_EXPIRED' }), { seatNumber: n }));
    redraw();
  }

  /** After a hold changed (taken, released, paid, expired): show it, and let the server confirm the map. */
  function redraw() {
    if (!ctx.alive()) return;
    renderHold();
    renderSeats();
    onChange();
  }

  // ---- actions ----
  async function pick(n) {
    if (busy || turn.over) return;
    if (hold?.seatNumber === n) return;
    const seat = seats.get(n);
    if (!seat) return;
    if (seat.status !== 'AVAILABLE') {
      notify(`Seat ${n} is ${STATUS_WORD[seat.status] ?? 'not available'}. Please pick another seat.`);
      return;
    }
    busy = true;
    grid.setPending(n, true);
    const previous = hold;
    try {
      const reservation = await api.hold(schedule.id, n, token);
      if (!ctx.alive()) return;
      hold = toHold({ ...reservation, seatType: reservation.seatType ?? seat.seatType, seatNumber: reservation.seatNumber ?? n });
      seat.status = 'HELD';
      if (previous) {
        // Switching seats: the new hold succeeded, now let the old one go.
        api.release(previous.id).catch(() => {});
        freeSeat(previous.seatNumber);
      }
    } catch (error) {
      if (!ctx.alive()) return;
      if (error instanceof ApiError && error.code === 'SEAT_UNAVAILABLE') {
        seat.status = 'HELD';
        notify(describeError(error, { seatNumber: n }));
      } else if (!turn.handle(error)) {
        reportError(error, { seatNumber: n, action: 'hold' });
      }
    } finally {
      busy = false;
      grid.setPending(n, false);
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

  async function release() {
    const released = beginHoldRequest();
    if (!released) return;
    try {
      await api.release(released.id);
      hold = null;
      freeSeat(released.seatNumber);
      notify(`Seat ${released.seatNumber} released.`, { kind: 'info' });
    } catch (error) {
      if (error instanceof ApiError && GONE_ON_RELEASE.includes(error.code)) {
        hold = null; // nothing left to release
      } else {
        reportError(error, { seatNumber: released.seatNumber });
      }
    } finally {
      busy = false;
      redraw();
    }
  }

  async function pay() {
    const paying = beginHoldRequest();
    if (!paying) return;
    paying.payKey ??= newIdempotencyKey(); // a retry of this payment is never a second debit
    try {
      const payment = await api.pay(paying.id, token, paying.payKey);
      turn.end(); // the server ends the turn after a purchase
      rememberConfirmation(payment.id, {
        payment,
        seat: { seatNumber: paying.seatNumber, seatType: paying.seatType },
        event: { id: event.id, name: event.name },
        schedule: { id: schedule.id, startAt: schedule.startAt, endAt: schedule.endAt },
      });
      hold = null;
      await refreshBalance();
      go(hashes.confirmation(payment.id));
      return;
    } catch (error) {
      if (!ctx.alive()) return;
      const code = error instanceof ApiError ? error.code : '';
      if (GONE_ON_PAY.includes(code)) {
        // The server released (or already closed) the hold: show why and free the panel.
        hold = null;
        freeSeat(paying.seatNumber);
        notify(describeError(error, { seatNumber: paying.seatNumber }));
        refreshBalance();
      } else if (!turn.handle(error)) {
        reportError(error, { seatNumber: paying.seatNumber, action: 'pay' });
      }
    } finally {
      busy = false;
    }
    redraw();
  }

  return { applySeats, renderHold, pick, pay, release };
}
