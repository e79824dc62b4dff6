// The operator's controls for one event: when the sale opens, pausing and resuming admissions, how many
// buyers shop at once and how fast they are let in, and whether the event is on sale at all. Every
// change goes to the service and the panel shows what the service answered.
import { h } from '/dom.js';
import { when } from '/format.js';
import { adminApi } from '/admin/admin-api.js';
import { describeError, notify } from '/admin/admin-messages.js';

const pad = (n) => String(n).padStart(2, '0');

/** An instant as a datetime-local value in this browser's time zone, to the second. */
export function localInputValue(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function zoneName() {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `onEvent(adminEvent)` and `onQueue(queueView)` receive what the service answered to a change. */
export function createControlsPanel(eventId, { onEvent, onQueue }) {
  let event = null;
  let line = null;
  const act = async (action, button, call, success) => {
    button.disabled = true;
    try {
      const answer = await call();
      // What was typed is saved: the inputs follow the service again.
      for (const input of [openingInput, maxActiveInput, rateInput]) delete input.dataset.dirty;
      notify(success(answer), { kind: 'success' });
    } catch (error) {
      notify(describeError(error, { action }));
    } finally {
      button.disabled = false;
      render();
    }
  };

  // ---- the opening ----
  const openingInput = h('input', { id: 'opening-at', name: 'salesStartAt', type: 'datetime-local', step: '1', required: true });
  const openingNow = h('p', { class: 'control-state', 'data-testid': 'opening-state' });
  const scheduleButton = h('button', { class: 'btn primary', type: 'submit' }, 'Schedule opening');
  const openNowButton = h('button', { class: 'btn ghost', type: 'button' }, 'Open now');
  const openingForm = h(
    'form',
    {
      class: 'control',
      onSubmit: (e) => {
        e.preventDefault();
        const at = new Date(openingInput.value);
        if (!openingInput.value || Number.isNaN(at.getTime())) {
          notify('Pick a date and time for the opening first.');
          return;
        }
        act('opening', scheduleButton, () => adminApi.updateEvent(eventId, { salesStartAt: at.toISOString() }).then(onEvent), () => `The sale opens ${when(at.toISOString())}.`);
      },
    },
    h('h3', {}, 'Opening'),
    openingNow,
    h('label', { for: 'opening-at' }, `Sales open at (${zoneName()})`),
    h('div', { class: 'control-row' }, openingInput, scheduleButton, openNowButton),
  );
  // Clearing a scheduled opening opens the sale at once: the pre-queue is still drawn, never dropped.
  openNowButton.addEventListener('click', () =>
    act('opening', openNowButton, () => adminApi.updateEvent(eventId, { salesStartAt: null }).then(onEvent), () => 'The sale opens now: the pre-queue is drawn and placed in line.'),
  );

  // ---- admissions ----
  const pauseState = h('p', { class: 'control-state', 'data-testid': 'pause-state' });
  const pauseButton = h('button', { class: 'btn secondary', type: 'button' }, '…');
  pauseButton.addEventListener('click', () => {
    const paused = !line?.paused;
    act(paused ? 'pause' : 'resume', pauseButton, () => adminApi.updateQueue(eventId, { paused }).then(onQueue), () =>
      paused ? 'Admissions are paused. People keep their places.' : 'Admissions resumed.',
    );
  });

  // ---- capacity and rate ----
  const maxActiveInput = h('input', { id: 'max-active', name: 'maxActive', type: 'number', min: '1', max: '100000', step: '1', required: true });
  const rateInput = h('input', { id: 'admit-per-second', name: 'admitPerSecond', type: 'number', min: '1', max: '100000', step: '1', required: true });
  const saveButton = h('button', { class: 'btn secondary', type: 'submit' }, 'Save line settings');
  const capacityForm = h(
    'form',
    {
      class: 'control',
      novalidate: true,
      onSubmit: (e) => {
        e.preventDefault();
        const changes = { maxActive: Number(maxActiveInput.value), admitPerSecond: Number(rateInput.value) };
        act('capacity', saveButton, () => adminApi.updateQueue(eventId, changes).then(onQueue), () =>
          `Up to ${changes.maxActive} buyers at once, ${changes.admitPerSecond} let in per second.`,
        );
      },
    },
    h('h3', {}, 'Capacity and rate'),
    h('div', { class: 'control-grid' }, h('label', { for: 'max-active' }, 'Max active buyers'), maxActiveInput, h('label', { for: 'admit-per-second' }, 'Admissions per second'), rateInput),
    h('div', { class: 'control-row' }, saveButton),
  );

  // ---- on sale ----
  const enabledState = h('p', { class: 'control-state', 'data-testid': 'enabled-state' });
  const enableButton = h('button', { class: 'btn ghost', type: 'button' }, '…');
  enableButton.addEventListener('click', () => {
    const enabled = !event?.enabled;
    act(enabled ? 'enable' : 'disable', enableButton, () => adminApi.updateEvent(eventId, { enabled }).then(onEvent), () =>
      enabled ? 'The event is on sale again.' : 'The event is disabled: hidden from the shop, and nobody new can join its line.',
    );
  });

  const el = h(
    'section',
    { class: 'card controls-panel', 'aria-labelledby': 'controls-heading' },
    h('h2', { id: 'controls-heading' }, 'Controls'),
    openingForm,
    h('div', { class: 'control' }, h('h3', {}, 'Admissions'), pauseState, h('div', { class: 'control-row' }, pauseButton)),
    capacityForm,
    h('div', { class: 'control' }, h('h3', {}, 'Availability'), enabledState, h('div', { class: 'control-row' }, enableButton)),
  );

  const editing = (input) => document.activeElement === input || input.dataset.dirty === '1';
  for (const input of [openingInput, maxActiveInput, rateInput]) input.addEventListener('input', () => (input.dataset.dirty = '1'));
  const settle = (input, value) => {
    if (!editing(input)) input.value = value;
  };

  function render() {
    if (event) {
      const opened = Boolean(event.salesOpenedAt);
      openingNow.textContent = opened
        ? `The sale opened ${when(event.salesOpenedAt)}; its opening can no longer move.`
        : event.salesStartAt
          ? `Scheduled: the sale opens ${when(event.salesStartAt)}. Until then buyers join a pre-queue.`
          : 'No opening scheduled: buyers are admitted as they join. Schedule one to gather a pre-queue first.';
      for (const control of [openingInput, scheduleButton]) control.disabled = opened;
      openNowButton.disabled = opened || !event.salesStartAt;
      if (event.salesStartAt) settle(openingInput, localInputValue(event.salesStartAt));
      enabledState.textContent = event.enabled ? 'On sale: listed in the shop.' : 'Disabled: hidden from the shop; nobody new can join.';
      enableButton.textContent = event.enabled ? 'Disable event' : 'Enable event';
    }
    if (line) {
      pauseState.textContent = line.paused ? 'Paused: nobody is let in.' : 'Running: buyers are let in as room frees up.';
      pauseButton.textContent = line.paused ? 'Resume admissions' : 'Pause admissions';
      pauseButton.setAttribute('aria-pressed', String(line.paused));
      settle(maxActiveInput, String(line.maxActive));
      settle(rateInput, String(line.admitPerSecond));
    }
  }

  return {
    el,
    setEvent(next) {
      event = next;
      render();
    },
    setQueue(next) {
      line = next;
      render();
    },
  };
}
