// The line, live: its state (scheduled, open, paused, sold out), how many wait and shop, how fast people
// are let in, how long the back of the line has to go, and a sparkline of the last minutes.
import { h, mount } from '/dom.js';
import { eta, when } from '/format.js';
import { inlineProblem } from '/admin/admin-messages.js';
import { SampleWindow, sparkline } from '/admin/sparkline.js';

const SERIES = [
  { key: 'waiting', label: 'Waiting', className: 'waiting' },
  { key: 'active', label: 'Active', className: 'active' },
];

/** What the line is doing, in a word for the chip and a sentence beside it. */
export function lineState(view, now = Date.now()) {
  if (view.soldOut) return { state: 'sold-out', chip: 'Sold out', text: 'Every seat is sold: the line is closed and new buyers are turned away.' };
  if (view.salesStartAt && !view.opened) {
    const opensAt = Date.parse(view.salesStartAt);
    const wait = opensAt > now ? ` (in ${eta((opensAt - now) / 1000).replace('about ', '')})` : '';
    return { state: 'scheduled', chip: 'Pre-queue', text: `Opens ${when(view.salesStartAt)}${wait}. Buyers who join now get their place in a fair shuffle at the opening.` };
  }
  if (view.paused) return { state: 'paused', chip: 'Paused', text: 'Admissions are paused: people keep their place in line, and nobody new is let in.' };
  return { state: 'open', chip: 'Open', text: 'Admitting buyers in order.' };
}

/** How long the last person in line still waits, in words. */
export function backOfLine(view) {
  if (view.waiting === 0) return 'Nobody waiting';
  if (!view.opened) return 'Placed at the opening';
  if (view.paused) return 'On hold while paused';
  if (!view.admissionsPerSecond) return 'Not moving yet';
  return eta(view.waiting / view.admissionsPerSecond);
}

const stat = (label, testId) => {
  const value = h('strong', { class: 'stat-value', 'data-testid': testId }, '…');
  const note = h('span', { class: 'stat-note' });
  return { el: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value, note), value, note };
};

export function createLinePanel() {
  const samples = new SampleWindow();
  const chip = h('span', { class: 'state-chip', 'data-testid': 'line-state' }, '…');
  const text = h('p', { class: 'state-text' });
  const waiting = stat('Waiting', 'line-waiting');
  const active = stat('Active', 'line-active');
  const rate = stat('Admissions per second', 'line-rate');
  const back = stat('Back of the line', 'line-eta');
  const chart = h('div', { class: 'chart' });
  const problem = inlineProblem();
  const el = h(
    'section',
    { class: 'card line-panel', 'aria-labelledby': 'line-heading' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'line-heading' }, 'The line'), chip),
    text,
    h('div', { class: 'stats', 'aria-live': 'off' }, waiting.el, active.el, rate.el, back.el),
    chart,
    h(
      'p',
      { class: 'legend-line small muted' },
      h('span', { class: 'key waiting', 'aria-hidden': 'true' }),
      ' waiting ',
      h('span', { class: 'key active', 'aria-hidden': 'true' }),
      ' active, last minutes',
    ),
    problem.el,
  );

  return {
    el,
    update(view) {
      problem.hide();
      const { state, chip: word, text: sentence } = lineState(view);
      chip.textContent = word;
      el.dataset.state = state;
      text.textContent = sentence;
      waiting.value.textContent = String(view.waiting);
      active.value.textContent = String(view.active);
      active.note.textContent = `of ${view.maxActive} at once`;
      rate.value.textContent = Number(view.admissionsPerSecond).toFixed(1);
      rate.note.textContent = `${view.paused ? 'paused' : `up to ${view.admitPerSecond}/s`} · ${view.admittedTotal} admitted in all`;
      back.value.textContent = backOfLine(view);
      back.note.textContent = view.seatsLeft === null || view.seatsLeft === undefined ? '' : `${view.seatsLeft} seats left, ${view.seatsAvailable} not held`;
      samples.add({ waiting: view.waiting, active: view.active });
      const label = `Waiting and active over the last minutes: now ${view.waiting} waiting and ${view.active} active.`;
      mount(chart, sparkline(samples, SERIES, { label }));
    },
    fail(error) {
      problem.show(error);
    },
  };
}
