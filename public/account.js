// The account screen: the wallet, and the balance, payment and reservation history, with refunds.
import { api } from './api.js';
import { findDates } from './catalog-cache.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { newestFirst, table } from './history-table.js';
import { reportError } from './messages.js';
import { paymentsTable } from './purchases.js';
import { currentUser } from './session.js';
import { refreshBalance, walletPanel } from './wallet.js';

const KIND_LABEL = { CHARGE: 'Top-up', PAYMENT: 'Payment', REFUND: 'Refund' };

/** A canceled reservation that had been paid for was refunded. */
const reservationStatus = (r) => (r.status === 'CANCELED' && r.confirmedAt ? 'REFUNDED' : r.status);

function ledgerRow(row) {
  return h(
    'tr',
    { dataset: { kind: row.kind } },
    h('td', {}, fmt.stamp(row.createdAt)),
    h('td', {}, h('span', { class: `badge kind-${String(row.kind).toLowerCase()}` }, KIND_LABEL[row.kind] ?? row.kind)),
    h('td', { class: `num ${Number(row.amount) < 0 ? 'debit' : 'credit'}` }, fmt.signedMoney(row.amount)),
    h('td', { class: 'muted mono' }, row.reference ? fmt.shortId(row.reference) : '—'),
  );
}

function reservationRow(r) {
  const status = reservationStatus(r);
  return h(
    'tr',
    { dataset: { status } },
    h('td', {}, fmt.stamp(r.reservedAt)),
    h('td', {}, `Seat ${r.seatNumber}${r.seatType ? ` · ${fmt.seatTypeName(r.seatType)}` : ''}`),
    h('td', { class: 'num' }, r.price === undefined ? '—' : fmt.money(r.price)),
    h('td', {}, h('span', { class: `badge res-${status.toLowerCase()}` }, fmt.titleCase(status))),
  );
}

/** The dates of the reservations that were paid for (or tried to be): when they start decides on refunds. */
async function datesOfPurchases(payments, reservations) {
  const paid = new Set(payments.map((p) => p.reservationId));
  const ids = [...new Set(reservations.filter((r) => paid.has(r.id)).map((r) => r.scheduleId))];
  return ids.length ? findDates(ids).catch(() => new Map()) : new Map();
}

export async function accountView(view, ctx) {
  const wallet = walletPanel();
  ctx.onCleanup(wallet.dispose);

  const sections = h('div', { class: 'account-tables' }, h('p', { class: 'muted' }, 'Loading your history…'));

  const load = async () => {
    const [, history, payments, reservations] = await Promise.allSettled([
      refreshBalance(), api.balanceHistory(), api.myPayments(), api.myReservations(),
    ]);
    if (!ctx.alive()) return;
    for (const result of [history, payments, reservations]) {
      if (result.status === 'rejected') reportError(result.reason);
    }
    const paymentList = payments.value ?? [];
    const reservationList = reservations.value ?? [];
    const dates = await datesOfPurchases(paymentList, reservationList);
    if (!ctx.alive()) return;
    mount(
      sections,
      table('Balance history', ['When', 'Type', 'Amount', 'Reference'], (history.value ?? []).slice().sort(newestFirst('createdAt')).map(ledgerRow), 'No wallet activity yet.', 'balance-history'),
      paymentsTable(paymentList, { reservations: reservationList, dates, onRefunded: reload }),
      table('Reservations', ['Reserved', 'Seat', 'Price', 'Status'], reservationList.slice().sort(newestFirst('reservedAt')).map(reservationRow), 'No reservations yet.', 'reservation-history'),
    );
  };
  const reload = () => load().catch(reportError);

  window.addEventListener('wallet:changed', reload);
  ctx.onCleanup(() => window.removeEventListener('wallet:changed', reload));

  mount(
    view,
    h('h1', {}, 'My account'),
    h('p', { class: 'lead' }, `Wallet, payments and reservations for ${currentUser().userName}.`),
    h('div', { class: 'account-layout' }, h('div', { class: 'account-side' }, wallet.el), sections),
  );
  await load();
}
