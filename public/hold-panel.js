// The "Your seat" panel: the held seat, a countdown to the end of the hold, and the pay and release buttons.
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { currentBalance } from './wallet.js';

/** The panel's element, `render(hold, busy)`, and `showTimeLeft(hold)`, which updates the countdown and returns the ms left. */
export function holdPanel({ onPay, onRelease }) {
  const panel = h('section', { class: 'card hold-panel', 'aria-live': 'polite', 'aria-label': 'Your seat' });
  // Made once and reused by every render, so the countdown ticks by updating these nodes, not by rebuilding the panel.
  const countdownValue = h('span', { class: 'countdown-value', 'data-testid': 'countdown' }, '');
  const countdownEl = h('p', { class: 'countdown', role: 'timer', 'aria-label': 'Time left to pay' }, h('span', { class: 'countdown-label' }, 'Held for you for '), countdownValue);
  const progressBar = h('span', { class: 'progress-bar' });
  const progress = h('div', { class: 'progress', 'aria-hidden': 'true' }, progressBar);

  function showTimeLeft(hold) {
    const left = hold.deadline - Date.now();
    countdownValue.textContent = fmt.clock(left);
    const ratio = hold.ttlMs > 0 ? Math.max(0, Math.min(1, left / hold.ttlMs)) : 0;
    progressBar.style.width = `${(ratio * 100).toFixed(1)}%`;
    const urgent = left <= Math.min(30_000, hold.ttlMs * 0.25);
    countdownEl.classList.toggle('urgent', urgent);
    progress.classList.toggle('urgent', urgent);
    return left;
  }

  function render(hold, busy) {
    if (!hold) {
      panel.dataset.state = 'empty';
      mount(
        panel,
        h('h2', {}, 'Your seat'),
        h('p', { class: 'muted' }, 'Click an available seat to hold it. You then have a few minutes to pay.'),
      );
      return;
    }
    panel.dataset.state = busy ? 'busy' : 'held';
    const balance = currentBalance();
    const short = balance !== null && balance < hold.price;
    const payButton = h(
      'button',
      { class: 'btn primary large', type: 'button', disabled: busy, onClick: onPay },
      busy ? 'Paying…' : `Pay ${fmt.money(hold.price)}`,
    );
    const releaseButton = h('button', { class: 'btn ghost', type: 'button', disabled: busy, onClick: onRelease }, 'Release seat');
    mount(
      panel,
      h('h2', {}, 'Your seat'),
      h(
        'div',
        { class: 'hold-seat' },
        h('span', { class: `seat-badge type-${String(hold.seatType ?? 'standard').toLowerCase()}` }, String(hold.seatNumber)),
        h('span', { class: 'hold-what' }, h('strong', { 'data-testid': 'held-seat' }, `Seat ${hold.seatNumber}`), h('span', { class: 'muted' }, fmt.seatTypeName(hold.seatType))),
        h('strong', { class: 'hold-price' }, fmt.money(hold.price)),
      ),
      countdownEl,
      progress,
      short
        ? h('p', { class: 'hint warn' }, `Your balance is ${fmt.money(balance)}. Add at least ${fmt.money(hold.price - balance)} before paying.`)
        : h('p', { class: 'hint' }, 'Paying uses your wallet balance.'),
      h('div', { class: 'actions' }, payButton, releaseButton),
    );
  }

  return { el: panel, render, showTimeLeft };
}
