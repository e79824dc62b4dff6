// The wallet: the signed-in user's balance as last heard from the server, shared by everything that shows it
// (header, seat map, account page), and the wallet panel where the buyer adds test funds.
import { api } from './api.js';
import { h } from './dom.js';
import { money, parseMoney } from './format.js';
import { notify, reportError } from './messages.js';
import { currentUser, onSessionChange } from './session.js';

let balance = null; // minor units; null until the server has said
const listeners = new Set();

/** The last known balance in minor units, or null when not known yet. */
export function currentBalance() {
  return balance;
}

/** Calls `listener(balance)` whenever the balance changes; returns the unsubscribe function. */
export function onBalance(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setBalance(value) {
  balance = value === null ? null : Number(value);
  for (const listener of listeners) listener(balance);
}

// Another user's balance is never shown: a new session starts unknown.
onSessionChange(() => setBalance(null));

/** Asks the server for the balance; reports a failure and returns null. */
export async function refreshBalance() {
  if (!currentUser()) return null;
  try {
    const { balance: fresh } = await api.balance();
    setBalance(fresh);
    return fresh;
  } catch (error) {
    reportError(error);
    return null;
  }
}

/** The wallet card (balance and "Add funds"); `compact` is the seat map sidebar's version. Call dispose() when it goes. */
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
  show(balance);
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
          const { balance: fresh } = await api.charge(amount);
          setBalance(fresh);
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
