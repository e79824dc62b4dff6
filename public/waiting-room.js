// The waiting room: the buyer's place in line, live, until it is their turn to pick a seat.
import { isCanceled, leaveCanceledDate } from './canceled-date.js';
import { getEvent, getSchedule } from './catalog-cache.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { inlineProblem, notify, reportError } from './messages.js';
import { go, hashes, rerender } from './nav.js';
import { forgetQueueToken, joinLine, leaveLine, queueToken } from './queue-tokens.js';
import { watchQueue } from './queue.js';

export async function queueView(view, ctx, eventId, scheduleId) {
  const [event, schedule] = await Promise.all([getEvent(eventId), getSchedule(eventId, scheduleId)]);
  if (isCanceled(schedule)) {
    if (ctx.alive()) leaveCanceledDate(eventId);
    return;
  }
  const token = queueToken(eventId) || (await joinLine(eventId));
  if (!ctx.alive()) return;

  const positionEl = h('span', { class: 'position-number', 'data-testid': 'queue-position' }, '…');
  const etaEl = h('strong', { 'data-testid': 'queue-eta' }, 'calculating…');
  const modeEl = h('span', { class: 'mode', 'data-testid': 'queue-mode' }, 'Connecting…');
  const updatedEl = h('span', { class: 'muted' }, '');
  const captionEl = h('p', { class: 'queue-caption' }, 'Your place in line');
  const noteEl = h('p', { class: 'queue-note', 'data-testid': 'queue-note', hidden: true });
  const problem = inlineProblem();
  const statusBox = h(
    'div',
    { class: 'queue-status', dataset: { status: 'WAITING' }, 'aria-live': 'polite' },
    captionEl,
    positionEl,
    h('p', { class: 'queue-eta' }, 'Estimated wait: ', etaEl),
    noteEl,
    h('div', { class: 'queue-progress', 'aria-hidden': 'true' }, h('span')),
  );

  const leave = h('button', {
    class: 'btn ghost', type: 'button',
    onClick: async () => {
      await leaveLine(eventId);
      go(hashes.event(eventId));
    },
  }, 'Leave the line');

  const rejoin = h('button', {
    class: 'btn primary', type: 'button', hidden: true,
    onClick: async () => {
      rejoin.disabled = true;
      try {
        await joinLine(eventId);
        rerender();
      } catch (error) {
        reportError(error, { action: 'queue' });
        rejoin.disabled = false;
      }
    },
  }, 'Join the line again');

  mount(
    view,
    h(
      'section',
      { class: 'card narrow waiting-room' },
      h('p', { class: 'eyebrow' }, event.name),
      h('h1', {}, 'Waiting room'),
      h('p', { class: 'queue-date' }, fmt.timeRange(schedule.startAt, schedule.endAt)),
      h('p', { class: 'lead' }, 'Keep this page open. When it is your turn the seat map opens by itself.'),
      statusBox,
      problem.el,
      h('p', { class: 'queue-meta' }, modeEl, ' · ', updatedEl),
      h('div', { class: 'actions' }, rejoin, leave),
    ),
  );

  const showNote = (text) => {
    noteEl.textContent = text ?? '';
    noteEl.hidden = !text;
  };

  const stop = watchQueue(token, {
    onUpdate: (snapshot) => {
      problem.hide();
      updatedEl.textContent = `updated ${fmt.timeOfDay()}`;
      if (snapshot.status === 'ACTIVE') {
        stop();
        statusBox.dataset.status = 'ACTIVE';
        positionEl.textContent = '✓';
        notify('It is your turn! Pick a seat.', { kind: 'success', keep: true });
        go(hashes.seats(eventId, scheduleId), { replace: true });
        return;
      }
      if (snapshot.status === 'SOLD_OUT') {
        forgetQueueToken(eventId);
        statusBox.dataset.status = 'SOLD_OUT';
        captionEl.textContent = 'Sold out';
        positionEl.textContent = '—';
        etaEl.textContent = '—';
        modeEl.textContent = 'Line closed';
        showNote('Every seat is sold, so the line has closed. Refunds sometimes bring seats back: check the dates again later.');
        leave.hidden = true;
        return;
      }
      const prequeue = snapshot.position === null;
      statusBox.dataset.status = prequeue ? 'PREQUEUE' : 'WAITING';
      captionEl.textContent = prequeue ? 'You are in the pre-queue' : 'Your place in line';
      const position = Number(snapshot.position);
      positionEl.textContent = prequeue ? `Opens ${fmt.timeOfDay(new Date(snapshot.opensAt))}` : position <= 0 ? 'Next' : `#${position}`;
      etaEl.textContent = prequeue ? `the sale opens in ${fmt.eta(snapshot.etaSeconds)}` : fmt.eta(snapshot.etaSeconds);
      showNote(noteFor(snapshot));
    },
    onMode: (mode) => {
      modeEl.textContent = mode === 'live' ? 'Live updates' : 'Checking every second';
      modeEl.dataset.mode = mode;
    },
    onError: (error, fatal) => {
      if (fatal) {
        forgetQueueToken(eventId);
        statusBox.dataset.status = 'EXPIRED';
        positionEl.textContent = '—';
        etaEl.textContent = '—';
        modeEl.textContent = 'Stopped';
        rejoin.hidden = false;
        reportError(error, { action: 'queue' });
      } else {
        problem.show(error);
      }
    },
  });
  ctx.onCleanup(stop);
}

/** What a waiter should know beyond their place: the draw at the opening, a pause, seats all held. */
function noteFor(snapshot) {
  if (snapshot.position === null) {
    return `Everyone who joins before the opening gets a random place in line at that moment, so there is no need to hurry or refresh. Your join number is ${snapshot.joinNumber}: after the opening, the published draw shows where it placed you.`;
  }
  if (snapshot.paused) return 'The organizer has paused admissions for a moment. You keep your place in line.';
  if (snapshot.seatsLeft) {
    const seats = snapshot.seatsLeft === 1 ? '1 seat is left and it is' : `${snapshot.seatsLeft} seats are left and all are`;
    return `${seats} held by other buyers right now. Some may come back if a hold lapses; stay in line.`;
  }
  return null;
}
