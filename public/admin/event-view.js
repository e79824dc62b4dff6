// One event, live: the line, the controls, seats per date, sales and the fair start, polled about once a
// second while the tab is visible.
import { ApiError } from '/api.js';
import { h, mount } from '/dom.js';
import { timeOfDay } from '/format.js';
import { adminApi } from '/admin/admin-api.js';
import { describeError } from '/admin/admin-messages.js';
import { createControlsPanel } from '/admin/controls-panel.js';
import { createFairnessPanel } from '/admin/fairness-panel.js';
import { createLinePanel } from '/admin/line-panel.js';
import { poll } from '/admin/live.js';
import { createSalesPanel } from '/admin/sales-panel.js';
import { createSeatsPanel } from '/admin/seats-panel.js';

/** Event details and the fairness record change rarely: read them every few polls, not every one. */
const SLOW_EVERY = 5;

export async function eventView(view, ctx, eventId, { onKeyRefused }) {
  let event = (await adminApi.events()).find((e) => e.id === eventId);
  if (!ctx.alive()) return;
  if (!event) {
    mount(
      view,
      h('section', { class: 'card narrow empty' }, h('h1', {}, 'Event not found'), h('p', {}, 'This event does not exist. It may have been removed.'), h('a', { class: 'btn secondary', href: '#/' }, 'All events')),
    );
    return;
  }

  const title = h('h1', {});
  const meta = h('p', { class: 'muted' });
  // Not a live region: it changes every second, and a screen reader would read it out every second.
  const live = h('p', { class: 'live-line small', 'data-testid': 'live-line' }, 'Connecting…');
  const showEvent = (next) => {
    event = next;
    title.textContent = event.name;
    meta.textContent = `${event.code}${event.category ? ` · ${event.category}` : ''} · ${event.enabled ? 'on sale' : 'disabled'}`;
    controls.setEvent(event);
  };

  const line = createLinePanel();
  const sales = createSalesPanel();
  const fairness = createFairnessPanel();
  let fairOpened = false;
  const showQueue = (queueView) => {
    line.update(queueView);
    controls.setQueue(queueView);
  };
  const controls = createControlsPanel(eventId, { onEvent: showEvent, onQueue: showQueue });
  const seats = createSeatsPanel({ onChanged: () => refreshFigures() });

  const refused = (error) => error instanceof ApiError && error.code === 'FORBIDDEN';
  async function refreshFigures() {
    const [queue, figures] = await Promise.allSettled([adminApi.queue(eventId), adminApi.sales(eventId)]);
    if (!ctx.alive()) return;
    if ([queue, figures].some((r) => r.status === 'rejected' && refused(r.reason))) {
      onKeyRefused();
      return;
    }
    if (queue.status === 'fulfilled') showQueue(queue.value);
    else line.fail(queue.reason);
    if (figures.status === 'fulfilled') {
      seats.update(figures.value.schedules);
      sales.update(figures.value);
    }
    const failure = [figures, queue].find((r) => r.status === 'rejected');
    live.dataset.state = failure ? 'problem' : 'live';
    live.textContent = failure ? `${describeError(failure.reason, { action: 'read' })} Retrying…` : `Live · updated ${timeOfDay()}`;
  }

  let ticks = 0;
  async function tick() {
    const slow = ticks % SLOW_EVERY === 0;
    ticks += 1;
    await Promise.all([
      refreshFigures(),
      // Until the opening the fairness record is about to change; after it, it never does.
      (slow || !fairOpened) &&
        adminApi.fairness(eventId).then(
          (fair) => {
            fairOpened = fair.opened;
            if (ctx.alive()) fairness.update(fair);
          },
          (error) => fairness.fail(error),
        ),
      slow &&
        ticks > 1 &&
        adminApi.events().then(
          (events) => {
            const next = events.find((e) => e.id === eventId);
            if (next && ctx.alive()) showEvent(next);
          },
          () => undefined,
        ),
    ]);
  }

  mount(
    view,
    h('a', { class: 'back', href: '#/' }, '← All events'),
    h('div', { class: 'event-head' }, h('div', {}, title, meta), live),
    h('div', { class: 'admin-layout' }, h('div', { class: 'admin-main' }, line.el, seats.el, sales.el), h('div', { class: 'admin-side' }, controls.el, fairness.el)),
  );
  showEvent(event);
  ctx.onCleanup(poll(tick, 1000));
}
