// The confirmation after a payment, from what the seat map saved (or the payment alone after a reload elsewhere).
import { api, ApiError } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { load, save } from './storage.js';
import { currentBalance } from './wallet.js';

const confirmationKey = (paymentId) => `confirmation.${paymentId}`;

/** Keeps what the seat map knew about a payment (seat, event, date) for its confirmation screen. */
export function rememberConfirmation(paymentId, record) {
  save(confirmationKey(paymentId), record);
}

export async function confirmationView(view, ctx, paymentId) {
  let saved = load(confirmationKey(paymentId));
  if (!saved) {
    const payments = await api.myPayments();
    const payment = payments.find((p) => p.id === paymentId);
    if (!payment) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'We could not find that payment.' });
    saved = { payment };
  }
  if (!ctx.alive()) return;
  const { payment, seat, event, schedule } = saved;
  const balance = currentBalance();
  const rows = [
    event ? ['Event', event.name] : null,
    schedule ? ['Date', fmt.timeRange(schedule.startAt, schedule.endAt)] : null,
    seat ? ['Seat', `${seat.seatNumber} · ${fmt.seatTypeName(seat.seatType)}`] : null,
    ['Amount paid', fmt.money(payment.amount)],
    ['Paid at', fmt.when(payment.paidAt)],
    ['Payment reference', fmt.shortId(payment.id)],
    balance !== null ? ['Wallet balance now', fmt.money(balance)] : null,
  ].filter(Boolean);

  mount(
    view,
    h(
      'section',
      { class: 'card narrow confirmation', 'data-testid': 'confirmation' },
      h('div', { class: 'check', 'aria-hidden': 'true' }, '✓'),
      h('h1', {}, 'Payment confirmed'),
      h('p', { class: 'lead' }, seat ? `Seat ${seat.seatNumber} is yours. Enjoy the show!` : 'Your seat is yours. Enjoy the show!'),
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
