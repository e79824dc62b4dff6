// The events on sale, and the dates of one event with the seats left on each.
import { api } from './api.js';
import { isCanceled } from './canceled-date.js';
import { getEvent, getEvents } from './catalog-cache.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { reportError } from './messages.js';
import { go, hashes } from './nav.js';
import { joinLine } from './queue-tokens.js';

/** The event's category as a chip, or nothing when it has none (the API sends a name or {name}). */
function categoryChip(event) {
  const { category } = event;
  const name = !category ? '' : typeof category === 'string' ? category : category.name ?? '';
  return name ? h('span', { class: 'chip' }, name) : null;
}

export async function eventsView(view, ctx) {
  const events = await getEvents({ fresh: true });
  if (!ctx.alive()) return;
  const cards = events.map((event) =>
    h(
      'article',
      { class: 'card event-card', dataset: { eventId: event.id } },
      categoryChip(event),
      h('h2', {}, event.name),
      h('p', { class: 'muted code' }, event.code),
      event.description ? h('p', { class: 'description' }, event.description) : null,
      h('a', { class: 'btn primary', href: hashes.event(event.id), 'aria-label': `Choose a date for ${event.name}` }, 'Choose a date'),
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
    const canceled = isCanceled(schedule);
    const soldOut = left <= 0;
    const input = h('input', {
      type: 'radio', name: 'schedule', value: schedule.id, disabled: soldOut || canceled, checked: selected === schedule.id,
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
      {
        class: `date-row${canceled ? ' canceled' : soldOut ? ' sold-out' : ''}${selected === schedule.id ? ' selected' : ''}`,
        dataset: { scheduleId: schedule.id, status: schedule.status ?? 'OPEN' },
      },
      input,
      h('span', { class: 'date-text' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
      h(
        'span',
        { class: 'seats-left', 'data-testid': 'seats-left' },
        canceled ? 'Canceled' : soldOut ? 'Sold out' : `${left} of ${total} seats left`,
      ),
      h('span', { class: 'bar', 'aria-hidden': 'true' }, bar),
    );
    return row;
  };

  const renderList = (items) => {
    // A date canceled since it was picked cannot be joined any more.
    if (selected && isCanceled(items.find((s) => s.id === selected))) {
      selected = null;
      joinButton.disabled = true;
    }
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
      await joinLine(eventId);
      go(hashes.queue(eventId, selected));
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
      categoryChip(event),
      h('h1', {}, event.name),
      event.description ? h('p', { class: 'lead' }, event.description) : null,
      h('h2', {}, 'Choose a date'),
      list,
      h('div', { class: 'actions' }, joinButton),
      h('p', { class: 'hint' }, 'Demand is high: you join a fair, first-come waiting room and pick a seat when it is your turn.'),
    ),
  );
}
