// The message strip above every screen, the shop's and the operator's alike, and the net under both
// pages: anything that slips through still ends up as a readable message, never a blank page.
import { h } from './dom.js';

/** What any error that is not the server's answer becomes: a bug in this page. */
export const UNEXPECTED = 'Something unexpected went wrong in this page. Reload it to continue.';

const box = () => document.getElementById('messages');

/**
 * Shows a message above the current screen; errors use role="alert" so screen readers announce them.
 * A new problem makes earlier good news stale, and a change that went through makes an earlier refusal
 * stale. `keep: true` lets the message survive the next screen change (e.g. "your turn ended" + redirect).
 */
export function notify(text, { kind = 'error', keep = false } = {}) {
  const el = box();
  if (!el) return;
  for (const existing of [...el.children]) {
    if (existing.dataset.text === text) {
      if (keep) existing.dataset.keep = '1';
      return;
    }
    if ((kind === 'error') !== (existing.dataset.kind === 'error')) existing.remove();
  }
  const item = h(
    'div',
    { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { text, kind, keep: keep ? '1' : '0' } },
    h('span', { class: 'msg-icon', 'aria-hidden': 'true' }, kind === 'error' ? '!' : kind === 'success' ? '✓' : 'i'),
    h('p', { class: 'msg-text' }, text),
    h('button', { class: 'msg-close', type: 'button', 'aria-label': 'Dismiss message', onClick: () => item.remove() }, '×'),
  );
  el.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 6000);
}

/** Called on every screen change: drops old messages, keeps the ones marked to survive once. */
export function ageMessages() {
  for (const item of [...(box()?.children ?? [])]) {
    if (item.dataset.keep === '1') item.dataset.keep = '0';
    else item.remove();
  }
}

export function clearMessages() {
  box()?.replaceChildren();
}

/** Reports what nothing else caught, once per page. */
export function catchUnexpected() {
  window.addEventListener('error', (event) => {
    console.error(event.error ?? event.message);
    notify(UNEXPECTED);
  });
  window.addEventListener('unhandledrejection', (event) => {
    console.error(event.reason);
    notify(UNEXPECTED);
  });
}
