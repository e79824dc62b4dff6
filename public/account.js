// The account screen: the wallet, and the balance, payment and reservation history.
import { api } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { reportError } from './messages.js';
import { currentUser } from './session.js';
import { refreshBalance, walletPanel } from './wallet.js';

const KIND_LABEL = { CHARGE: 'Top-up', PAYMENT: 'Payment', REFUND: 'Refund' };
const FAILURE_LABEL = {
  INSUFFICIENT_BALANCE: 'Insufficient balance',
  RESERVATION_EXPIRED: 'Hold expired',
  RESERVATION_NOT_PAYABLE: 'Not payable',
};

/** Newest first by timestamp; rows written in the same millisecond fall back to the id (ledger ids grow). */
const newestFirst = (key) => (a, b) =>
  (Date.parse(b[key]) || 0) - (Date.parse(a[key]) || 0) ||
  (Number(b.id) || 0) - (Number(a.id) || 0);

function table(caption, headers, rows, emptyText, testId) {
  if (!rows.length) {
    return h('section', { class: 'card', 'data-testid': testId }, h('h2', {}, caption), h('p', { class: 'muted empty' }, emptyText));
  }
  return h(
    'section',
    { class: 'card', 'data-testid': testId },
    h('h2', {}, caption),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

export async function accountView(view, ctx) {
  const wallet = walletPanel();
  ctx.onCleanup(wallet.dispose);

  const sections = h('div', { class: 'account-tables' }, h('p', { class: 'muted' }, 'Loading your history…'));

  const load = async () => {
    const [balance, history, payments, reservations] = await Promise.allSettled([
      refreshBalance(), api.balanceHistory(), api.myPayments(), api.myReservations(),
    ]);
    void balance;
    if (!ctx.alive()) return;
    for (const result of [history, payments, reservations]) {
      if (result.status === 'rejected') reportError(result.reason);
    }
    const historyRows = (history.value ?? []).slice().sort(newestFirst('createdAt')).map((row) =>
      h(
        'tr',
        {},
        h('td', {}, fmt.stamp(row.createdAt)),
        h('td', {}, h('span', { class: `badge kind-${String(row.kind).toLowerCase()}` }, KIND_LABEL[row.kind] ?? row.kind)),
        h('td', { class: `num ${Number(row.amount) < 0 ? 'debit' : 'credit'}` }, fmt.signedMoney(row.amount)),
        h('td', { class: 'muted mono' }, row.reference ? fmt.shortId(row.reference) : '—'),
      ),
    );
    const paymentRows = (payments.value ?? []).slice().sort(newestFirst('createdAt')).map((p) =>
      h(
        'tr',
        {},
        h('td', {}, fmt.stamp(p.paidAt ?? p.createdAt)),
        h('td', { class: 'num' }, fmt.money(p.amount)),
        h(
          'td',
          {},
          h('span', { class: `badge status-${String(p.status).toLowerCase()}` }, p.status === 'SUCCEEDED' ? 'Paid' : 'Failed'),
          p.failureCode ? h('span', { class: 'muted small' }, ` ${FAILURE_LABEL[p.failureCode] ?? p.failureCode}`) : null,
        ),
        h('td', { class: 'muted mono' }, fmt.shortId(p.id)),
      ),
    );
    const reservationRows = (reservations.value ?? []).slice().sort(newestFirst('reservedAt')).map((r) =>
      h(
        'tr',
        {},
        h('td', {}, fmt.stamp(r.reservedAt)),
        h('td', {}, `Seat ${r.seatNumber}${r.seatType ? ` · ${fmt.seatTypeName(r.seatType)}` : ''}`),
        h('td', { class: 'num' }, r.price === undefined ? '—' : fmt.money(r.price)),
        h('td', {}, h('span', { class: `badge res-${String(r.status).toLowerCase()}` }, fmt.titleCase(r.status))),
      ),
    );
    mount(
      sections,
      table('Balance history', ['When', 'Type', 'Amount', 'Reference'], historyRows, 'No wallet activity yet.', 'balance-history'),
      table('Payments', ['When', 'Amount', 'Status', 'Reference'], paymentRows, 'No payments yet.', 'payment-history'),
      table('Reservations', ['Reserved', 'Seat', 'Price', 'Status'], reservationRows, 'No reservations yet.', 'reservation-history'),
    );
  };

  const onWallet = () => load().catch(reportError);
  window.addEventListener('wallet:changed', onWallet);
  ctx.onCleanup(() => window.removeEventListener('wallet:changed', onWallet));

  mount(
    view,
    h('h1', {}, 'My account'),
    h('p', { class: 'lead' }, `Wallet, payments and reservations for ${currentUser().userName}.`),
    h('div', { class: 'account-layout' }, h('div', { class: 'account-side' }, wallet.el), sections),
  );
  await load();
}
