// Seats per date: available, held and sold on every date of the event, live, and canceling a date with a
// confirmation step. Rows are kept by date, so a poll updates the numbers without closing a question.
import { h, mount } from '/dom.js';
import { timeRange } from '/format.js';
import { adminApi } from '/admin/admin-api.js';
import { describeError, notify } from '/admin/admin-messages.js';

/** A date's state in a word: canceled, sold out (nothing left, nothing held) or on sale. */
export function dateState(date) {
  if (date.status === 'CANCELED') return { key: 'canceled', word: 'Canceled' };
  if (date.available === 0 && date.held === 0) return { key: 'sold-out', word: 'Sold out' };
  if (date.available === 0) return { key: 'all-held', word: 'All held' };
  return { key: 'on-sale', word: 'On sale' };
}

function createRow(date, onChanged) {
  let current = date;
  let asking = false;
  const when = h('td', { class: 'date-when' });
  const state = h('span', { class: 'badge', 'data-testid': 'date-state' });
  const cell = (testId) => h('td', { class: 'num', 'data-testid': testId });
  const [available, held, sold] = [cell('seats-available'), cell('seats-held'), cell('seats-sold')];
  const bar = h('div', { class: 'seat-bar', 'aria-hidden': 'true' });
  const actions = h('td', { class: 'date-actions' });
  const el = h('tr', { class: 'date-sales' }, when, h('td', {}, state), available, held, sold, h('td', { class: 'bar-cell' }, bar), actions);

  const cancel = async (button) => {
    button.disabled = true;
    try {
      const result = await adminApi.cancelDate(current.id);
      notify(`The date of ${timeRange(current.startAt, current.endAt)} is canceled: ${result.refunded} purchases refunded, ${result.released} holds released.`, { kind: 'success' });
      asking = false;
      await onChanged();
    } catch (error) {
      notify(describeError(error, { action: 'cancel-date' }));
      button.disabled = false;
    }
  };

  const renderActions = () => {
    if (current.status === 'CANCELED') {
      mount(actions);
    } else if (asking) {
      const yes = h('button', { class: 'btn small danger', type: 'button', onClick: () => cancel(yes) }, 'Yes, cancel date');
      mount(
        actions,
        h('p', { class: 'confirm-question' }, 'Cancel this date? Every purchase is refunded and every hold released.'),
        h('div', { class: 'confirm-actions' }, yes, h('button', { class: 'btn small ghost', type: 'button', onClick: () => ((asking = false), renderActions()) }, 'Keep date')),
      );
      yes.focus();
    } else {
      mount(actions, h('button', { class: 'btn small ghost', type: 'button', onClick: () => ((asking = true), renderActions()) }, 'Cancel date'));
    }
  };

  let shownStatus = null;
  return {
    el,
    update(next) {
      current = next;
      const { key, word } = dateState(next);
      el.dataset.schedule = next.id;
      el.dataset.state = key;
      when.textContent = timeRange(next.startAt, next.endAt);
      state.textContent = word;
      state.className = `badge date-${key}`;
      available.textContent = String(next.available);
      held.textContent = String(next.held);
      sold.textContent = String(next.sold);
      const total = Math.max(1, next.available + next.held + next.sold);
      mount(
        bar,
        ...['sold', 'held', 'available'].map((part) => h('span', { class: `part ${part}`, style: `width: ${((next[part] / total) * 100).toFixed(1)}%` })),
      );
      if (shownStatus !== next.status) {
        shownStatus = next.status;
        renderActions();
      }
    },
  };
}

/** `onChanged` refreshes the figures at once after a date was canceled. */
export function createSeatsPanel({ onChanged }) {
  const rows = new Map();
  const body = h('tbody', {});
  const empty = h('p', { class: 'muted', hidden: true }, 'This event has no dates yet.');
  const table = h(
    'table',
    { 'data-testid': 'dates-table' },
    h('caption', { class: 'visually-hidden' }, 'Seats per date'),
    h('thead', {}, h('tr', {}, ...['Date', 'State', 'Available', 'Held', 'Sold', 'Seats', ''].map((name) => h('th', { scope: 'col' }, name)))),
    body,
  );
  const el = h('section', { class: 'card seats-panel', 'aria-labelledby': 'seats-heading' }, h('h2', { id: 'seats-heading' }, 'Seats per date'), h('div', { class: 'table-wrap' }, table), empty);

  return {
    el,
    update(schedules) {
      empty.hidden = schedules.length > 0;
      table.hidden = schedules.length === 0;
      const seen = new Set();
      schedules.forEach((date, index) => {
        seen.add(date.id);
        let row = rows.get(date.id);
        if (!row) rows.set(date.id, (row = createRow(date, onChanged)));
        row.update(date);
        // Moved only when out of place: moving a row would take the focus off its buttons.
        if (body.children[index] !== row.el) body.insertBefore(row.el, body.children[index] ?? null);
      });
      for (const [id, row] of rows) {
        if (seen.has(id)) continue;
        row.el.remove();
        rows.delete(id);
      }
    },
  };
}
