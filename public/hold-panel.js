// The "Your seat" panel: every held seat with its own countdown and release button, the total, one pay button
// for them all, and the "Hold several seats" choice (off: a click moves the one hold; on: each click adds a seat).
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { currentBalance } from './wallet.js';

/**
 * The panel's element, `render({holds, several, paying})`, and `showTimeLeft(hold)`, which updates that hold's
 * countdown and returns the ms left. Calls `onPay()`, `onRelease(hold)` and `onSeveral(checked)`.
 */
export function holdPanel({ onPay, onRelease, onSeveral }) {
  const panel = h('section', { class: 'card hold-panel', 'aria-live': 'polite', 'aria-label': 'Your seat' });
  const severalBox = h('input', { type: 'checkbox', onChange: () => onSeveral(severalBox.checked) });
  const severalLabel = h('label', { class: 'several' }, severalBox, 'Hold several seats');
  // One countdown per hold, made once and reused by every render, so it ticks by updating these nodes, not by rebuilding the panel.
  const timers = new Map();

  function timerOf(hold) {
    if (!timers.has(hold.id)) {
      const value = h('span', { class: 'countdown-value', 'data-testid': 'countdown' }, '');
      const label = `Time left to pay for seat ${hold.seatNumber}`;
      const line = h('p', { class: 'countdown', role: 'timer', 'aria-label': label }, h('span', { class: 'countdown-label' }, 'Held for you for '), value);
      const bar = h('span', { class: 'progress-bar' });
      timers.set(hold.id, { line, value, bar, progress: h('div', { class: 'progress', 'aria-hidden': 'true' }, bar) });
    }
    return timers.get(hold.id);
  }

  function showTimeLeft(hold) {
    const { line, value, bar, progress } = timerOf(hold);
    const left = hold.deadline - Date.now();
    value.textContent = fmt.clock(left);
    const ratio = hold.ttlMs > 0 ? Math.max(0, Math.min(1, left / hold.ttlMs)) : 0;
    bar.style.width = `${(ratio * 100).toFixed(1)}%`;
    const urgent = left <= Math.min(30_000, hold.ttlMs * 0.25);
    line.classList.toggle('urgent', urgent);
    progress.classList.toggle('urgent', urgent);
    return left;
  }

  function holdItem(hold, paying) {
    const { line, progress } = timerOf(hold);
    const release = h(
      'button',
      {
        class: 'btn small ghost', type: 'button', disabled: paying || hold.releasing,
        'aria-label': `Release seat ${hold.seatNumber}`, onClick: () => onRelease(hold),
      },
      hold.releasing ? 'Releasing…' : 'Release seat',
    );
    return h(
      'li',
      { class: 'hold-item', dataset: { heldSeat: String(hold.seatNumber) } },
      h(
        'div',
        { class: 'hold-seat' },
        h('span', { class: `seat-badge type-${String(hold.seatType ?? 'standard').toLowerCase()}` }, String(hold.seatNumber)),
        h('span', { class: 'hold-what' }, h('strong', { 'data-testid': 'held-seat' }, `Seat ${hold.seatNumber}`), h('span', { class: 'muted' }, fmt.seatTypeName(hold.seatType))),
        h('strong', { class: 'hold-price' }, fmt.money(hold.price)),
      ),
      line,
      progress,
      h('div', { class: 'hold-release' }, release),
    );
  }

  function render({ holds, several, paying }) {
    const ids = new Set(holds.map((hold) => hold.id));
    for (const id of timers.keys()) if (!ids.has(id)) timers.delete(id);
    severalBox.checked = several;
    severalBox.disabled = paying || holds.length > 1; // several holds are kept together until some are gone
    const title = holds.length > 1 ? 'Your seats' : 'Your seat';
    panel.setAttribute('aria-label', title);
    const choice = h(
      'div',
      { class: 'several-choice' },
      severalLabel,
      h('p', { class: 'hint' }, several ? 'Each seat you click is added; pay for them together.' : 'A click on another seat moves your hold there.'),
    );
    if (!holds.length) {
      panel.dataset.state = 'empty';
      mount(panel, h('h2', {}, title), h('p', { class: 'muted' }, 'Click an available seat to hold it. You then have a few minutes to pay.'), choice);
      return;
    }
    panel.dataset.state = paying ? 'busy' : 'held';
    const total = holds.reduce((sum, hold) => sum + hold.price, 0);
    const balance = currentBalance();
    const short = balance !== null && balance < total;
    const payLabel = holds.length === 1 ? `Pay ${fmt.money(total)}` : `Pay ${holds.length} seats · ${fmt.money(total)}`;
    const payButton = h(
      'button',
      { class: 'btn primary large', type: 'button', disabled: paying || holds.some((hold) => hold.releasing), onClick: onPay },
      paying ? 'Paying…' : payLabel,
    );
    mount(
      panel,
      h('h2', {}, title),
      h('ul', { class: `hold-list${holds.length > 1 ? ' several' : ''}` }, holds.map((hold) => holdItem(hold, paying))),
      holds.length > 1
        ? h('p', { class: 'hold-total' }, h('span', {}, `Total for ${holds.length} seats`), h('strong', { 'data-testid': 'hold-total' }, fmt.money(total)))
        : null,
      short
        ? h('p', { class: 'hint warn' }, `Your balance is ${fmt.money(balance)}. Add at least ${fmt.money(total - balance)} before paying.`)
        : h('p', { class: 'hint' }, 'Paying uses your wallet balance.'),
      h('div', { class: 'actions' }, payButton),
      choice,
    );
  }

  return { el: panel, render, showTimeLeft };
}
