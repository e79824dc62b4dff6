// The seat grid and its legends: 50 buttons in rows of ten, colored by type and status.
import { h, mount } from './dom.js';
import * as fmt from './format.js';

const SEATS_PER_ROW = 10;
const TYPES = ['VIP', 'STANDARD', 'STANDING'];
export const STATUS_WORD = { AVAILABLE: 'available', HELD: 'held', SOLD: 'sold' };

/**
 * The grid's elements (the seat buttons, the legends, the available count), `render`, which
 * shows `seats` (seat number → seat) with the seat numbers in the set `mine` as the buyer's own holds,
 * and `setPending`, which marks a seat whose click is waiting for the server.
 */
export function seatGrid(onSeatClick) {
  const buttons = new Map();
  const grid = h('div', { class: 'seat-grid', role: 'group', 'aria-label': 'Seat map' });
  for (let n = 1; n <= 50; n += 1) {
    const button = h('button', { class: 'seat', type: 'button', dataset: { seat: String(n) }, onClick: () => onSeatClick(n) }, String(n));
    buttons.set(n, button);
  }
  const rows = [];
  for (let r = 0; r < 50 / SEATS_PER_ROW; r += 1) {
    const label = String.fromCharCode(65 + r);
    rows.push(
      h('div', { class: 'seat-row' },
        h('span', { class: 'row-label', 'aria-hidden': 'true' }, label),
        [...buttons.values()].slice(r * SEATS_PER_ROW, (r + 1) * SEATS_PER_ROW),
        h('span', { class: 'row-label', 'aria-hidden': 'true' }, label)),
    );
  }
  mount(grid, rows);

  const legendTypes = h('ul', { class: 'legend legend-types' });
  const legendStatus = h(
    'ul',
    { class: 'legend legend-status' },
    h('li', {}, h('span', { class: 'swatch status-available' }), 'Available'),
    h('li', {}, h('span', { class: 'swatch status-held' }), 'Held by someone'),
    h('li', {}, h('span', { class: 'swatch status-sold' }), 'Sold'),
    h('li', {}, h('span', { class: 'swatch mine' }), 'Your hold'),
  );
  const counts = h('p', { class: 'seat-counts', 'data-testid': 'seat-counts' });

  function render(seats, mine) {
    let available = 0;
    const prices = new Map();
    for (const [n, button] of buttons) {
      const seat = seats.get(n);
      if (!seat) {
        button.disabled = true;
        continue;
      }
      const isMine = mine.has(n);
      const status = seat.status;
      if (status === 'AVAILABLE') available += 1;
      const type = String(seat.seatType);
      if (!prices.has(type)) prices.set(type, new Set());
      prices.get(type).add(Number(seat.price));
      button.className = `seat type-${type.toLowerCase()} status-${String(status).toLowerCase()}${isMine ? ' mine' : ''}`;
      button.dataset.status = status;
      button.dataset.type = type;
      if (isMine) button.dataset.mine = 'true';
      else delete button.dataset.mine;
      button.disabled = !isMine && status !== 'AVAILABLE';
      button.setAttribute('aria-pressed', isMine ? 'true' : 'false');
      const word = isMine ? 'held by you' : STATUS_WORD[status] ?? String(status).toLowerCase();
      button.setAttribute('aria-label', `Seat ${n}, ${fmt.seatTypeName(type)}, ${fmt.money(seat.price)}, ${word}`);
      button.title = `Seat ${n} · ${fmt.seatTypeName(type)} · ${fmt.money(seat.price)} · ${word}`;
    }
    counts.textContent = `${available} of ${seats.size || 50} seats available`;
    mount(
      legendTypes,
      TYPES.filter((t) => prices.has(t)).map((t) => {
        const list = [...prices.get(t)].sort((a, b) => a - b);
        const price = list.length === 1 ? fmt.money(list[0]) : `${fmt.money(list[0])}–${fmt.money(list.at(-1))}`;
        return h('li', {}, h('span', { class: `swatch type-${t.toLowerCase()}` }), `${fmt.seatTypeName(t)} · ${price}`);
      }),
    );
  }

  function setPending(n, pending) {
    const button = buttons.get(n);
    button.classList.toggle('pending', pending);
    if (pending) button.setAttribute('aria-busy', 'true');
    else button.removeAttribute('aria-busy');
  }

  return { grid, legendTypes, legendStatus, counts, render, setPending };
}
