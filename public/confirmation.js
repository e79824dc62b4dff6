// The confirmation after a payment: every seat bought and the total, from what the seat map saved (or the
// payment alone after a reload elsewhere).
import { api, ApiError } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { load, save } from './storage.js';
import { currentBalance } from './wallet.js';

const confirmationKey = (paymentId) => `confirmation.${paymentId}`;

/** Keeps what the seat map knew about a purchase (payments, total, seats, event, date) for its confirmation screen. */
export function rememberConfirmation(paymentId, record) {
  save(confirmationKey(paymentId), record);
}

/** The lead sentence: "Seat 12 is yours." or "Seats 11, 12 and 13 are yours." */
function yours(seats) {
  if (!seats.length) return 'Your seat is yours. Enjoy the show!';
  const numbers = fmt.seatList(seats.map((seat) => seat.seatNumber));
  return seats.length === 1 ? `Seat ${numbers} is yours. Enjoy the show!` : `Seats ${numbers} are yours. Enjoy the show!`;
}

/** One seat as "12 · VIP", with its price when several were bought together. */
const seatLine = (seat, withPrice) => `${seat.seatNumber} · ${fmt.seatTypeName(seat.seatType)}${withPrice ? ` · ${fmt.money(seat.price)}` : ''}`;

export async function confirmationView(view, ctx, paymentId) {
  let saved = load(confirmationKey(paymentId));
  if (!saved) {
    const payments = await api.myPayments();
    const payment = payments.find((p) => p.id === paymentId);
    if (!payment) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'We could not find that payment.' });
    saved = { payments: [payment] };
  }
  if (!ctx.alive()) return;
  const { event, schedule } = saved;
  // Saved by an older page: one payment and one seat.
  const payments = saved.payments ?? [saved.payment];
  const seats = saved.seats ?? (saved.seat ? [saved.seat] : []);
  const amount = saved.amount ?? payments.reduce((sum, p) => sum + Number(p.amount), 0);
  const several = seats.length > 1;
  const balance = currentBalance();
  const rows = [
    event ? ['Event', event.name] : null,
    schedule ? ['Date', fmt.timeRange(schedule.startAt, schedule.endAt)] : null,
    seats.length ? [several ? 'Seats' : 'Seat', several ? h('ul', { class: 'seat-lines' }, seats.map((seat) => h('li', {}, seatLine(seat, true)))) : seatLine(seats[0], false)] : null,
    [several ? 'Total paid' : 'Amount paid', fmt.money(amount)],
    ['Paid at', fmt.when(payments[0].paidAt)],
    [several ? 'Payment references' : 'Payment reference', payments.map((p) => fmt.shortId(p.id)).join(', ')],
    balance !== null ? ['Wallet balance now', fmt.money(balance)] : null,
  ].filter(Boolean);

  mount(
    view,
    h(
      'section',
      { class: 'card narrow confirmation', 'data-testid': 'confirmation' },
      h('div', { class: 'check', 'aria-hidden': 'true' }, '✓'),
      h('h1', {}, 'Payment confirmed'),
      h('p', { class: 'lead' }, yours(seats)),
      h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'btn primary', href: '#/account' }, 'See my account'),
        h('a', { class: 'btn ghost', href: '#/' }, 'Find more events'),
      ),
    ),
  );
}
