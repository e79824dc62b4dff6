// The payments table of the account page: what each payment bought (seat, event, date), its status (paid,
// refunded and when, failed and why), and "Cancel and refund" while the purchase can still be refunded.
import { h } from './dom.js';
import * as fmt from './format.js';
import { newestFirst, table } from './history-table.js';
import { refundOpen } from './refund-window.js';
import { refundClosedNote, refundControl } from './refund.js';

const FAILURE_LABEL = {
  INSUFFICIENT_BALANCE: 'Insufficient balance',
  RESERVATION_EXPIRED: 'Hold expired',
  RESERVATION_NOT_PAYABLE: 'Not payable',
};
const STATUS_LABEL = { SUCCEEDED: 'Paid', REFUNDED: 'Refunded', FAILED: 'Failed' };

function statusCell(payment) {
  const note =
    payment.status === 'REFUNDED' && payment.canceledAt ? ` on ${fmt.stamp(payment.canceledAt)}`
    : payment.failureCode ? ` ${FAILURE_LABEL[payment.failureCode] ?? payment.failureCode}`
    : '';
  return h(
    'td',
    {},
    h('span', { class: `badge status-${String(payment.status).toLowerCase()}` }, STATUS_LABEL[payment.status] ?? fmt.titleCase(payment.status)),
    note ? h('span', { class: 'muted small' }, note) : null,
  );
}

/** The seat, and the event and date when the catalog still lists them. */
function ticketCell(reservation, date) {
  if (!reservation) return h('td', { class: 'muted' }, '—');
  const type = reservation.seatType ? ` · ${fmt.seatTypeName(reservation.seatType)}` : '';
  return h(
    'td',
    {},
    h('span', { class: 'ticket-seat' }, `Seat ${reservation.seatNumber}${type}`),
    date ? h('span', { class: 'muted small ticket-date' }, `${date.event.name} · ${fmt.when(date.schedule.startAt)}`) : null,
  );
}

function refundCell(payment, reservation, date, onRefunded) {
  if (payment.status !== 'SUCCEEDED' || reservation?.status !== 'CONFIRMED' || !date) return h('td', {});
  const open = refundOpen(date.schedule.startAt);
  return h('td', { class: 'refund-cell' }, open ? refundControl({ reservation, amount: payment.amount, onDone: onRefunded }) : refundClosedNote());
}

/**
 * The "Payments" card. `reservations` are the buyer's (to find each payment's seat), `dates` a Map
 * scheduleId → {schedule, event}, and `onRefunded()` reloads the account page after a refund.
 */
export function paymentsTable(payments, { reservations, dates, onRefunded }) {
  const reservationById = new Map(reservations.map((r) => [r.id, r]));
  const rows = payments.slice().sort(newestFirst('createdAt')).map((payment) => {
    const reservation = reservationById.get(payment.reservationId);
    const date = reservation ? dates.get(reservation.scheduleId) : undefined;
    return h(
      'tr',
      { dataset: { paymentId: payment.id, status: payment.status } },
      h('td', {}, fmt.stamp(payment.paidAt ?? payment.createdAt)),
      ticketCell(reservation, date),
      h('td', { class: 'num' }, fmt.money(payment.amount)),
      statusCell(payment),
      refundCell(payment, reservation, date, onRefunded),
    );
  });
  return table('Payments', ['When', 'Ticket', 'Amount', 'Status', 'Refund'], rows, 'No payments yet.', 'payment-history');
}
