// Holding seats: take one and move it to another seat, or, with "Hold several seats", add seats up to the
// buyer's limit; count each hold down, release it, or pay for all of them at once. It keeps the screen's own
// picture of the seats and the holds, so the map answers a click at once, and asks for a refresh after every
// change so the server has the last word.
import { api, ApiError, newIdempotencyKey } from './api.js';
import { describeError, notify, reportError } from './messages.js';
import { STATUS_WORD } from './seat-grid.js';
import { payHolds } from './seat-pay.js';
import { onBalance } from './wallet.js';

const GONE_ON_RELEASE = ['RESERVATION_EXPIRED', 'RESERVATION_NOT_PAYABLE', 'RESERVATION_NOT_CANCELABLE', 'NOT_FOUND'];

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
 * The hold flow of one seat map. `grid` and `panel` show the state; `existing` are the pending reservations
 * of this date from an earlier visit; `onChange()` is called after every change so the map is refreshed from the server.
 * Returns `applySeats(list)` for the server's seats, `renderHold()`, and the actions `pick(n)`, `pay()`,
 * `release(hold)` and `setSeveral(on)`.
 */
export function seatHold({ ctx, turn, event, schedule, token, grid, panel, existing, onChange }) {
  /** @type {Map<number, {seatNumber:number, seatType:string, price:number, status:string}>} */
  const seats = new Map();
  /** Seat number → hold {id, seatNumber, seatType, price, deadline, ttlMs, releasing}, in the order they were taken. */
  const holds = new Map(existing.map((r) => [Number(r.seatNumber), toHold(r, { restored: true })]));
  const picking = new Set(); // seat numbers whose hold request is in flight
  let several = holds.size > 1; // each click adds a seat (otherwise it moves the one hold)
  let paying = false;
  let payKey = { ids: '', key: '' }; // a retry of the same payment is never a second debit

  const busy = () => paying || picking.size > 0 || [...holds.values()].some((hold) => hold.releasing);

  function applySeats(list) {
    for (const seat of list) seats.set(Number(seat.seatNumber), { ...seat, seatNumber: Number(seat.seatNumber) });
    for (const hold of holds.values()) {
      // Our own holds show as HELD; make sure the map agrees even before the next refresh.
      const mine = seats.get(hold.seatNumber);
      if (!mine) continue;
      hold.seatType ??= mine.seatType;
      if (mine.status === 'AVAILABLE' && hold.deadline > Date.now()) mine.status = 'HELD';
    }
    renderSeats();
  }

  function renderSeats() {
    grid.render(seats, new Set(holds.keys()));
  }

  function renderHold() {
    panel.render({ holds: [...holds.values()], several: several || holds.size > 1, paying });
    tick();
  }

  /** Our hold on seat `n` is over: forget it, and show the seat free until the server says otherwise. */
  function dropHold(n) {
    holds.delete(n);
    const seat = seats.get(n);
    if (seat && seat.status === 'HELD') seat.status = 'AVAILABLE';
  }

  // ---- countdowns ----
  function tick() {
    for (const hold of [...holds.values()]) {
      const left = panel.showTimeLeft(hold);
      if (left <= 0 && !paying && !hold.releasing) onHoldExpired(hold);
    }
  }
  const ticker = setInterval(tick, 250);
  ctx.onCleanup(() => clearInterval(ticker));
  ctx.onCleanup(onBalance(() => renderHold()));

  function onHoldExpired(hold) {
    dropHold(hold.seatNumber);
    notify(describeError(new ApiError(410, { code: 'RESERVATION_EXPIRED' }), { seatNumber: hold.seatNumber }));
    redraw();
  }

  /** After the holds changed (taken, released, paid, expired): show them, and let the server confirm the map. */
  function redraw() {
    if (!ctx.alive()) return;
    renderHold();
    renderSeats();
    onChange();
  }

  // ---- actions ----
  async function pick(n) {
    if (turn.over || paying || picking.has(n) || holds.has(n)) return;
    const adding = several || holds.size > 1;
    if (!adding && busy()) return;
    const seat = seats.get(n);
    if (!seat) return;
    if (seat.status !== 'AVAILABLE') {
      notify(`Seat ${n} is ${STATUS_WORD[seat.status] ?? 'not available'}. Please pick another seat.`);
      return;
    }
    const previous = adding ? null : [...holds.values()][0];
    picking.add(n);
    grid.setPending(n, true);
    try {
      const reservation = await api.hold(schedule.id, n, token);
      if (!ctx.alive()) return;
      holds.set(n, toHold({ ...reservation, seatType: reservation.seatType ?? seat.seatType, seatNumber: reservation.seatNumber ?? n }));
      seat.status = 'HELD';
      if (previous && holds.get(previous.seatNumber) === previous) {
        // Moving the hold: the new one succeeded, now let the old one go.
        api.cancelReservation(previous.id).catch(() => {});
        dropHold(previous.seatNumber);
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
      picking.delete(n);
      grid.setPending(n, false);
      redraw();
    }
  }

  async function release(hold) {
    if (paying || hold.releasing || holds.get(hold.seatNumber) !== hold) return;
    hold.releasing = true;
    renderHold();
    try {
      await api.cancelReservation(hold.id);
      dropHold(hold.seatNumber);
      notify(`Seat ${hold.seatNumber} released.`, { kind: 'info' });
    } catch (error) {
      if (error instanceof ApiError && GONE_ON_RELEASE.includes(error.code)) {
        dropHold(hold.seatNumber); // nothing left to release
      } else {
        reportError(error, { seatNumber: hold.seatNumber });
      }
    } finally {
      hold.releasing = false;
      redraw();
    }
  }

  async function pay() {
    const list = [...holds.values()];
    if (!list.length || busy()) return;
    paying = true;
    renderHold();
    const ids = list.map((hold) => hold.id).join();
    if (payKey.ids !== ids) payKey = { ids, key: newIdempotencyKey() };
    const { paid, gone } = await payHolds({ ctx, turn, event, schedule, token, list, idempotencyKey: payKey.key });
    paying = false;
    for (const n of gone) dropHold(n);
    if (!paid) redraw();
  }

  function setSeveral(on) {
    several = on;
    renderHold();
  }

  return { applySeats, renderHold, pick, pay, release, setSeveral };
}
