// The session corner of the top bar: who is signed in, their balance (a link to the account), and
// "New user" to start over. It follows the session and the wallet, so nobody has to redraw it by hand.
import { h, mount } from './dom.js';
import { money } from './format.js';
import { clearMessages } from './messages.js';
import { rerender } from './nav.js';
import { currentUser, onSessionChange, signOut } from './session.js';
import { currentBalance, onBalance } from './wallet.js';

/** Draws the session corner now and again after every sign-in, sign-out and balance change. */
export function mountHeader() {
  renderHeader();
  onSessionChange(renderHeader);
  onBalance(renderHeader);
}

function renderHeader() {
  const el = document.getElementById('session');
  if (!el) return;
  const user = currentUser();
  if (!user) {
    mount(el);
    return;
  }
  const balance = currentBalance();
  mount(
    el,
    h('span', { class: 'who' }, 'Signed in as ', h('strong', { 'data-testid': 'user-name' }, user.userName)),
    h(
      'a',
      { class: 'balance-chip', href: '#/account', title: 'Wallet balance' },
      'Balance ',
      h('strong', { 'data-testid': 'header-balance' }, balance === null ? '…' : money(balance)),
    ),
    h(
      'button',
      {
        class: 'btn small ghost',
        type: 'button',
        onClick: () => {
          signOut();
          clearMessages();
          rerender();
        },
      },
      'New user',
    ),
  );
}
