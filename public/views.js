// Screens other than the seat map: sign-in, events, dates, waiting room, confirmation, account.
import { api, ApiError, describeError } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { watchQueue } from './queue.js';
import {
  categoryName, getEvent, getEvents, getSchedule, notify, queueTokens, refreshBalance, reportError, signIn, state,
  storage, walletPanel,
} from './ui.js';

const go = (hash, { replace = false } = {}) => {
  if (replace) location.replace(hash);
  else location.hash = hash;
};

// ---- sign in -------------------------------------------------------------------------------

export function signInView(view) {
  const input = h('input', {
    id: 'user-name', name: 'userName', type: 'text', required: true, maxlength: '64', autocomplete: 'nickname',
    placeholder: 'e.g. Alex',
  });
  const button = h('button', { class: 'btn primary', type: 'submit' }, 'Continue');
  const form = h(
    'form',
    {
      class: 'stack',
      onSubmit: async (event) => {
        event.preventDefault();
        const userName = input.value.trim();
        if (!userName) {
          notify('Please enter a name.');
          return;
        }
        button.disabled = true;
        button.textContent = 'Creating your account…';
        try {
          signIn(await api.createUser(userName));
          await refreshBalance();
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (error) {
          reportError(error);
          button.disabled = false;
          button.textContent = 'Continue';
        }
      },
    },
    h('label', { for: 'user-name' }, 'Your name'),
    input,
    button,
  );
  mount(
    view,
    h(
      'section',
      { class: 'card narrow welcome' },
      h('h1', {}, 'Welcome'),
      h('p', { class: 'lead' }, 'Pick a name to get started. You get an account and a wallet on this device.'),
      form,
    ),
  );
  input.focus();
}

// ---- events --------------------------------------------------------------------------------

export async function eventsView(view, ctx) {
  const events = await getEvents({ fresh: true });
  if (!ctx.alive()) return;
  const cards = events.map((event) =>
    h(
      'article',
      { class: 'card event-card', dataset: { eventId: event.id } },
      categoryName(event.category) ? h('span', { class: 'chip' }, categoryName(event.category)) : null,
      h('h2', {}, event.name),
      h('p', { class: 'muted code' }, event.code),
      event.description ? h('p', { class: 'description' }, event.description) : null,
      h('a', { class: 'btn primary', href: `#/event/${encodeURIComponent(event.id)}`, 'aria-label': `Choose a date for ${event.name}` }, 'Choose a date'),
    ),
  );
  mount(
    view,
    h('h1', {}, 'Events'),
    h('p', { class: 'lead' }, 'Pick an event, choose a date, and wait your turn for a seat.'),
    cards.length
      ? h('div', { class: 'event-grid' }, cards)
      : h('p', { class: 'card empty' }, 'No events are on sale right now. Check back soon.'),
  );
}

// ---- event dates ---------------------------------------------------------------------------

export async function eventView(view, ctx, eventId) {
  const [event, schedules] = await Promise.all([getEvent(eventId), api.schedules(eventId)]);
  if (!ctx.alive()) return;

  let selected = null;
  const joinButton = h('button', { class: 'btn primary large', type: 'button', disabled: true }, 'Join the waiting room');
  const list = h('div', { class: 'date-list', role: 'radiogroup', 'aria-label': 'Dates' });
  const rows = new Map();

  const renderRow = (schedule) => {
    const left = Number(schedule.availableSeats);
    const total = Number(schedule.totalSeats) || 50;
    const soldOut = left <= 0;
    const input = h('input', {
      type: 'radio', name: 'schedule', value: schedule.id, disabled: soldOut, checked: selected === schedule.id,
      onChange: () => {
        selected = schedule.id;
        joinButton.disabled = false;
        for (const [id, row] of rows) row.classList.toggle('selected', id === selected);
      },
    });
    const bar = h('span', { class: 'bar-fill' });
    bar.style.width = `${Math.round((left / total) * 100)}%`;
    const row = h(
      'label',
      { class: `date-row${soldOut ? ' sold-out' : ''}${selected === schedule.id ? ' selected' : ''}`, dataset: { scheduleId: schedule.id } },
      input,
      h('span', { class: 'date-text' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
      h(
        'span',
        { class: 'seats-left', 'data-testid': 'seats-left' },
        soldOut ? 'Sold out' : `${left} of ${total} seats left`,
      ),
      h('span', { class: 'bar', 'aria-hidden': 'true' }, bar),
    );
    return row;
  };

  const renderList = (items) => {
    rows.clear();
    for (const schedule of items) rows.set(schedule.id, renderRow(schedule));
    mount(list, items.length ? [...rows.values()] : h('p', { class: 'muted' }, 'No dates announced yet.'));
  };
  renderList(schedules);

  joinButton.addEventListener('click', async () => {
    if (!selected) return;
    joinButton.disabled = true;
    joinButton.textContent = 'Joining…';
    try {
      const ticket = await api.joinQueue(eventId);
      queueTokens.set(eventId, ticket.token);
      go(`#/queue/${encodeURIComponent(eventId)}/${encodeURIComponent(selected)}`);
    } catch (error) {
      reportError(error, { action: 'queue' });
      joinButton.disabled = false;
      joinButton.textContent = 'Join the waiting room';
    }
  });

  // Seat counts move while people buy: refresh them quietly.
  const timer = setInterval(async () => {
    try {
      const fresh = await api.schedules(eventId);
      if (ctx.alive()) renderList(fresh);
    } catch {
      // The next tick tries again; the page keeps the last known counts.
    }
  }, 5000);
  ctx.onCleanup(() => clearInterval(timer));

  mount(
    view,
    h('a', { class: 'back', href: '#/' }, '← All events'),
    h(
      'section',
      { class: 'card event-detail' },
      categoryName(event.category) ? h('span', { class: 'chip' }, categoryName(event.category)) : null,
      h('h1', {}, event.name),
      event.description ? h('p', { class: 'lead' }, event.description) : null,
      h('h2', {}, 'Choose a date'),
      list,
      h('div', { class: 'actions' }, joinButton),
      h('p', { class: 'hint' }, 'Demand is high: you join a fair, first-come waiting room and pick a seat when it is your turn.'),
    ),
  );
}

// ---- waiting room --------------------------------------------------------------------------

export async function queueView(view, ctx, eventId, scheduleId) {
  const seatsHash = `#/seats/${encodeURIComponent(eventId)}/${encodeURIComponent(scheduleId)}`;
  const [event, schedule] = await Promise.all([getEvent(eventId), getSchedule(eventId, scheduleId)]);
  let token = queueTokens.get(eventId);
  if (!token) {
    const ticket = await api.joinQueue(eventId);
    token = ticket.token;
    queueTokens.set(eventId, token);
  }
  if (!ctx.alive()) return;

  const positionEl = h('span', { class: 'position-number', 'data-testid': 'queue-position' }, '…');
  const etaEl = h('strong', { 'data-testid': 'queue-eta' }, 'calculating…');
  const modeEl = h('span', { class: 'mode', 'data-testid': 'queue-mode' }, 'Connecting…');
  const updatedEl = h('span', { class: 'muted' }, '');
  const problemEl = h('p', { class: 'inline-problem', hidden: true });
  const statusBox = h(
    'div',
    { class: 'queue-status', dataset: { status: 'WAITING' }, 'aria-live': 'polite' },
    h('p', { class: 'queue-caption' }, 'Your place in line'),
    positionEl,
    h('p', { class: 'queue-eta' }, 'Estimated wait: ', etaEl),
    h('div', { class: 'queue-progress', 'aria-hidden': 'true' }, h('span')),
  );

  const leave = h('button', {
    class: 'btn ghost', type: 'button',
    onClick: async () => {
      const token = queueTokens.get(eventId);
      queueTokens.clear(eventId);
      // Give the place back so the people behind move up; an already expired token has nothing to give.
      if (token) await api.leaveQueue(token).catch(() => undefined);
      go(`#/event/${encodeURIComponent(eventId)}`);
    },
  }, 'Leave the line');

  const rejoin = h('button', {
    class: 'btn primary', type: 'button', hidden: true,
    onClick: async () => {
      rejoin.disabled = true;
      try {
        const ticket = await api.joinQueue(eventId);
        queueTokens.set(eventId, ticket.token);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (error) {
        reportError(error, { action: 'queue' });
        rejoin.disabled = false;
      }
    },
  }, 'Join the line again');

  mount(
    view,
    h(
      'section',
      { class: 'card narrow waiting-room' },
      h('p', { class: 'eyebrow' }, event.name),
      h('h1', {}, 'Waiting room'),
      h('p', { class: 'queue-date' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
      h('p', { class: 'lead' }, 'Keep this page open. When it is your turn the seat map opens by itself.'),
      statusBox,
      problemEl,
      h('p', { class: 'queue-meta' }, modeEl, ' · ', updatedEl),
      h('div', { class: 'actions' }, rejoin, leave),
    ),
  );

  const stop = watchQueue(token, {
    onUpdate: (snapshot) => {
      problemEl.hidden = true;
      updatedEl.textContent = `updated ${new Date().toLocaleTimeString('en-US')}`;
      if (snapshot.status === 'ACTIVE') {
        stop();
        statusBox.dataset.status = 'ACTIVE';
        positionEl.textContent = '✓';
        notify('It is your turn! Pick a seat.', { kind: 'success', keep: true });
        go(seatsHash, { replace: true });
        return;
      }
      statusBox.dataset.status = snapshot.status ?? 'WAITING';
      const position = Number(snapshot.position);
      positionEl.textContent = Number.isFinite(position) ? (position <= 0 ? 'Next' : `#${position}`) : '…';
      etaEl.textContent = fmt.eta(snapshot.etaSeconds);
    },
    onMode: (mode) => {
      modeEl.textContent = mode === 'live' ? 'Live updates' : 'Checking every second';
      modeEl.dataset.mode = mode;
    },
    onError: (error, fatal) => {
      if (fatal) {
        queueTokens.clear(eventId);
        statusBox.dataset.status = 'EXPIRED';
        positionEl.textContent = '—';
        etaEl.textContent = '—';
        modeEl.textContent = 'Stopped';
        rejoin.hidden = false;
        reportError(error, { action: 'queue' });
      } else {
        problemEl.hidden = false;
        problemEl.textContent = `${describeError(error)} Retrying…`;
      }
    },
  });
  ctx.onCleanup(stop);
}

// ---- confirmation --------------------------------------------------------------------------

export const confirmationKey = (paymentId) => `ticketing.confirmation.${paymentId}`;

export async function confirmationView(view, ctx, paymentId) {
  let saved = storage.get(confirmationKey(paymentId));
  if (!saved) {
    const payments = await api.myPayments();
    const payment = payments.find((p) => p.id === paymentId);
    if (!payment) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'We could not find that payment.' });
    saved = { payment };
  }
  if (!ctx.alive()) return;
  const { payment, seat, event, schedule } = saved;
  const rows = [
    event ? ['Event', event.name] : null,
    schedule ? ['Date', fmt.timeRange(schedule.startAt, schedule.endAt)] : null,
    seat ? ['Seat', `${seat.seatNumber} · ${fmt.seatTypeName(seat.seatType)}`] : null,
    ['Amount paid', fmt.money(payment.amount)],
    ['Paid at', fmt.when(payment.paidAt)],
    ['Payment reference', fmt.shortId(payment.id)],
    state.balance !== null ? ['Wallet balance now', fmt.money(state.balance)] : null,
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

// ---- account -------------------------------------------------------------------------------

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
    h('p', { class: 'lead' }, `Wallet, payments and reservations for ${state.user.userName}.`),
    h('div', { class: 'account-layout' }, h('div', { class: 'account-side' }, wallet.el), sections),
  );
  await load();
}

// ---- fallbacks -----------------------------------------------------------------------------

export function notFoundView(view) {
  mount(
    view,
    h('section', { class: 'card narrow' }, h('h1', {}, 'Page not found'), h('p', {}, 'That address does not lead anywhere.'), h('a', { class: 'btn primary', href: '#/' }, 'Browse events')),
  );
}

export function failureView(view, error) {
  if (error instanceof ApiError && error.code === 'UNAUTHORIZED') {
    reportError(error); // signs out and shows the sign-in screen
    return;
  }
  if (!(error instanceof ApiError)) console.error(error);
  mount(
    view,
    h(
      'section',
      { class: 'card narrow' },
      h('h1', {}, 'This page could not be loaded'),
      h('p', { role: 'alert' }, describeError(error)),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'btn primary', type: 'button', onClick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, 'Try again'),
        h('a', { class: 'btn ghost', href: '#/' }, 'Browse events'),
      ),
    ),
  );
}
