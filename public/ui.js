// Shared page state and widgets: the signed-in user, the wallet balance, messages, the catalog cache.
import { api, ApiError, describeError, setAccessToken } from './api.js';
import { h, mount } from './dom.js';
import { money, parseMoney } from './format.js';

// ---- storage -------------------------------------------------------------------------------

export const storage = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key) ?? 'null');
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Private mode or full storage: the page still works, it just forgets on reload.
    }
  },
};

const USER_KEY = 'ticketing.user';

export const state = {
  user: null, // {id, userName, accessToken}
  balance: null,
};

export function loadUser() {
  const user = storage.get(USER_KEY);
  if (user && typeof user.accessToken === 'string' && user.id) {
    state.user = user;
    setAccessToken(user.accessToken);
  }
  return state.user;
}

export function signIn(user) {
  state.user = { id: user.id, userName: user.userName, accessToken: user.accessToken };
  storage.set(USER_KEY, state.user);
  setAccessToken(user.accessToken);
  state.balance = null;
  renderSession();
}

export function signOut() {
  state.user = null;
  state.balance = null;
  storage.set(USER_KEY, null);
  setAccessToken(null);
  renderSession();
}

// ---- queue tokens (one per user and event, kept across reloads) ------------------------------

const queueKey = (eventId) => `ticketing.queue.${state.user?.id}.${eventId}`;
export const queueTokens = {
  get: (eventId) => storage.get(queueKey(eventId)),
  set: (eventId, token) => storage.set(queueKey(eventId), token),
  clear: (eventId) => storage.set(queueKey(eventId), null),
};

// ---- messages ------------------------------------------------------------------------------

const messagesEl = () => document.getElementById('messages');

/**
 * Show a message above the current screen. Errors use role="alert" so screen readers announce them.
 * `keep: true` lets the message survive the next screen change (e.g. "your turn ended" + redirect).
 */
export function notify(text, { kind = 'error', keep = false } = {}) {
  const box = messagesEl();
  if (!box) return;
  for (const existing of box.children) {
    if (existing.dataset.text === text) {
      existing.dataset.keep = keep ? '1' : existing.dataset.keep;
      return;
    }
  }
  if (kind === 'error') {
    // A new problem makes earlier good news stale.
    for (const existing of [...box.children]) if (existing.dataset.kind !== 'error') existing.remove();
  }
  const item = h(
    'div',
    {
      class: `msg msg-${kind}`,
      role: kind === 'error' ? 'alert' : 'status',
      dataset: { text, kind, keep: keep ? '1' : '0' },
    },
    h('span', { class: 'msg-icon', 'aria-hidden': 'true' }, kind === 'error' ? '!' : kind === 'success' ? '✓' : 'i'),
    h('p', { class: 'msg-text' }, text),
    h('button', { class: 'msg-close', type: 'button', 'aria-label': 'Dismiss message', onClick: () => item.remove() }, '×'),
  );
  box.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 6000);
}

/** Called on every screen change: drop old messages, keep the ones marked to survive once. */
export function ageMessages() {
  const box = messagesEl();
  if (!box) return;
  for (const item of [...box.children]) {
    if (item.dataset.keep === '1') item.dataset.keep = '0';
    else item.remove();
  }
}

export function clearMessages() {
  messagesEl()?.replaceChildren();
}

/** The one place that turns a thrown error into a message (and signs out on a dead session). */
export function reportError(error, ctx = {}) {
  if (error?.name === 'AbortError') return;
  if (error instanceof ApiError && error.code === 'UNAUTHORIZED') {
    signOut();
    notify(describeError(error), { keep: true });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (!(error instanceof ApiError)) console.error(error);
  notify(describeError(error, ctx), { keep: ctx.keep });
}

// ---- balance -------------------------------------------------------------------------------

const balanceListeners = new Set();

export function onBalance(listener) {
  balanceListeners.add(listener);
  return () => balanceListeners.delete(listener);
}

export function setBalance(balance) {
  state.balance = Number(balance);
  renderSession();
  for (const listener of balanceListeners) listener(state.balance);
}

export async function refreshBalance() {
  if (!state.user) return null;
  try {
    const { balance } = await api.balance();
    setBalance(balance);
    return balance;
  } catch (error) {
    reportError(error);
    return null;
  }
}

// ---- header --------------------------------------------------------------------------------

export function renderSession() {
  const el = document.getElementById('session');
  if (!el) return;
  if (!state.user) {
    mount(el);
    return;
  }
  mount(
    el,
    h('span', { class: 'who' }, 'Signed in as ', h('strong', { 'data-testid': 'user-name' }, state.user.userName)),
    h(
      'a',
      { class: 'balance-chip', href: '#/account', title: 'Wallet balance' },
      'Balance ',
      h('strong', { 'data-testid': 'header-balance' }, state.balance === null ? '…' : money(state.balance)),
    ),
    h(
      'button',
      {
        class: 'btn small ghost',
        type: 'button',
        onClick: () => {
          signOut();
          clearMessages();
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        },
      },
      'New user',
    ),
  );
}

// ---- wallet widget (seat map sidebar and account page) --------------------------------------

export function walletPanel({ compact = false } = {}) {
  const balanceEl = h('strong', { class: 'wallet-balance', 'data-testid': 'wallet-balance' }, '…');
  const input = h('input', {
    id: compact ? 'charge-amount-side' : 'charge-amount',
    name: 'amount',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    value: '100.00',
    'aria-describedby': compact ? 'charge-help-side' : 'charge-help',
  });
  const button = h('button', { class: 'btn secondary', type: 'submit' }, 'Add funds');
  const show = (value) => {
    balanceEl.textContent = value === null || value === undefined ? '…' : money(value);
  };
  show(state.balance);
  const stop = onBalance(show);

  const form = h(
    'form',
    {
      class: 'charge-form',
      onSubmit: async (event) => {
        event.preventDefault();
        const amount = parseMoney(input.value);
        if (amount === null) {
          notify('Enter an amount to add, like 50 or 12.50.');
          input.focus();
          return;
        }
        button.disabled = true;
        button.textContent = 'Adding…';
        try {
          const { balance } = await api.charge(amount);
          setBalance(balance);
          notify(`Added ${money(amount)} to your wallet.`, { kind: 'success' });
          window.dispatchEvent(new CustomEvent('wallet:changed'));
        } catch (error) {
          reportError(error, { action: 'charge' });
        } finally {
          button.disabled = false;
          button.textContent = 'Add funds';
        }
      },
    },
    h('label', { for: input.id }, 'Amount to add'),
    h('div', { class: 'charge-row' }, input, button),
    h('p', { class: 'hint', id: compact ? 'charge-help-side' : 'charge-help' }, 'A test wallet: no real money moves.'),
  );

  const el = h(
    'section',
    { class: `card wallet-panel${compact ? ' compact' : ''}`, 'aria-label': 'Wallet' },
    h('h2', {}, 'Wallet'),
    h('p', { class: 'wallet-line' }, h('span', { class: 'muted' }, 'Balance'), balanceEl),
    form,
  );
  return { el, dispose: stop };
}

// ---- catalog cache (events and schedules change rarely; seat counts are refetched) -----------

let eventsPromise = null;

export function getEvents({ fresh = false } = {}) {
  if (fresh || !eventsPromise) {
    eventsPromise = api.events().catch((error) => {
      eventsPromise = null;
      throw error;
    });
  }
  return eventsPromise;
}

export async function getEvent(eventId) {
  let events = await getEvents();
  let event = events.find((e) => e.id === eventId);
  if (!event) {
    events = await getEvents({ fresh: true });
    event = events.find((e) => e.id === eventId);
  }
  if (!event) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'This event is not on sale any more.' });
  return event;
}

export async function getSchedule(eventId, scheduleId) {
  const schedules = await api.schedules(eventId);
  const schedule = schedules.find((s) => s.id === scheduleId);
  if (!schedule) throw new ApiError(404, { code: 'NOT_FOUND', detail: 'This date is no longer available.' });
  return schedule;
}

export function categoryName(category) {
  if (!category) return '';
  if (typeof category === 'string') return category;
  return category.name ?? '';
}
