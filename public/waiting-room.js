// The waiting room: the buyer's place in line, live, until it is their turn to pick a seat.
import { api } from './api.js';
import { getEvent, getSchedule } from './catalog-cache.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { go } from './nav.js';
import { watchQueue } from './queue.js';
import { describeError, notify, reportError } from './messages.js';
import { forgetQueueToken, queueToken, saveQueueToken } from './queue-tokens.js';

export async function queueView(view, ctx, eventId, scheduleId) {
  const seatsHash = `#/seats/${encodeURIComponent(eventId)}/${encodeURIComponent(scheduleId)}`;
  const [event, schedule] = await Promise.all([getEvent(eventId), getSchedule(eventId, scheduleId)]);
  let token = queueToken(eventId);
  if (!token) {
    const ticket = await api.joinQueue(eventId);
    token = ticket.token;
    saveQueueToken(eventId, token);
  }
  if (!ctx.alive()) return;

  const positionEl = h('span', { class: 'position-number', 'data-testid': 'queue-position' }, '…');
  const etaEl = h('strong', { 'data-testid': 'queue-eta' }, 'calculating…');
  const modeEl = h('span', { class: 'mode', 'data-testid': 'queue-mode' }, 'Connecting…');
  const updatedEl = h('span', { class: 'muted' }, '');
  const problemEl = h('p', { class: 'inline-problem', hidden: true });
  const statusBox = h(
    'div',
    { class: 'queue-status', dataset: { status: 'WAITING' }, 'aria-live': 'polite' },
    h('p', { class: 'queue-caption' }, 'Your place in line'),
    positionEl,
    h('p', { class: 'queue-eta' }, 'Estimated wait: ', etaEl),
    h('div', { class: 'queue-progress', 'aria-hidden': 'true' }, h('span')),
  );

  const leave = h('button', {
    class: 'btn ghost', type: 'button',
    onClick: async () => {
      const token = queueToken(eventId);
      forgetQueueToken(eventId);
      // Give the place back so the people behind move up; an already expired token has nothing to give.
      if (token) await api.leaveQueue(token).catch(() => undefined);
      go(`#/event/${encodeURIComponent(eventId)}`);
    },
  }, 'Leave the line');

  const rejoin = h('button', {
    class: 'btn primary', type: 'button', hidden: true,
    onClick: async () => {
      rejoin.disabled = true;
      try {
        const ticket = await api.joinQueue(eventId);
        saveQueueToken(eventId, ticket.token);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
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
      problemEl,
      h('p', { class: 'queue-meta' }, modeEl, ' · ', updatedEl),
      h('div', { class: 'actions' }, rejoin, leave),
    ),
  );

  const stop = watchQueue(token, {
    onUpdate: (snapshot) => {
      problemEl.hidden = true;
      updatedEl.textContent = `updated ${new Date().toLocaleTimeString('en-US')}`;
      if (snapshot.status === 'ACTIVE') {
        stop();
        statusBox.dataset.status = 'ACTIVE';
        positionEl.textContent = '✓';
        notify('It is your turn! Pick a seat.', { kind: 'success', keep: true });
        go(seatsHash, { replace: true });
        return;
      }
      statusBox.dataset.status = snapshot.status ?? 'WAITING';
      const position = Number(snapshot.position);
      positionEl.textContent = Number.isFinite(position) ? (position <= 0 ? 'Next' : `#${position}`) : '…';
      etaEl.textContent = fmt.eta(snapshot.etaSeconds);
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
        problemEl.hidden = false;
        problemEl.textContent = `${describeError(error)} Retrying…`;
      }
    },
  });
  ctx.onCleanup(stop);
}
