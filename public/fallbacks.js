// What shows when no screen can: an unknown address, or a screen that failed to load.
import { ApiError } from './api.js';
import { h, mount } from './dom.js';
import { describeError, reportError } from './messages.js';
import { rerender } from './nav.js';

export function notFoundView(view) {
  mount(
    view,
    h('section', { class: 'card narrow' }, h('h1', {}, 'Page not found'), h('p', {}, 'That address does not lead anywhere.'), h('a', { class: 'btn primary', href: '#/' }, 'Browse events')),
  );
}

export function failureView(view, error) {
  if (error instanceof ApiError && error.code === 'UNAUTHORIZED') {
    reportError(error); // signs out and shows the sign-in screen
    return;
  }
  if (!(error instanceof ApiError)) console.error(error);
  mount(
    view,
    h(
      'section',
      { class: 'card narrow' },
      h('h1', {}, 'This page could not be loaded'),
      h('p', { role: 'alert' }, describeError(error)),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'btn primary', type: 'button', onClick: rerender }, 'Try again'),
        h('a', { class: 'btn ghost', href: '#/' }, 'Browse events'),
      ),
    ),
  );
}
