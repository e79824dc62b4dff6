// Entry point of the operator's page: sign in with the admin key, the list of events, and one event live.
// A hash router like the shop's; the admin key lives in this tab only (admin-session.js).
import { h, mount } from '/dom.js';
import { when } from '/format.js';
import { adminApi } from '/admin/admin-api.js';
import { adminKey, forgetAdminKey, keepAdminKey } from '/admin/admin-session.js';
import { clearMessages, describeError, notify } from '/admin/admin-messages.js';
import { catchUnexpected } from '/message-strip.js';
import { eventView } from '/admin/event-view.js';

const viewEl = document.getElementById('view');
const sessionEl = document.getElementById('session');
let generation = 0;
let cleanups = [];

const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

function signOut(message) {
  forgetAdminKey();
  clearMessages();
  if (message) notify(message);
  rerender();
}

function renderSession() {
  if (!adminKey()) {
    mount(sessionEl);
    return;
  }
  mount(sessionEl, h('span', { class: 'who' }, 'Operator'), h('button', { class: 'btn small ghost', type: 'button', onClick: () => signOut() }, 'Sign out'));
}

function signInView(view) {
  const input = h('input', { id: 'admin-key', name: 'adminKey', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' });
  const button = h('button', { class: 'btn primary', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'stack',
      onSubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) {
          notify('Please enter the admin key.');
          return;
        }
        button.disabled = true;
        try {
          await adminApi.events(key);
          keepAdminKey(key);
          clearMessages();
          rerender();
        } catch (error) {
          notify(describeError(error, { action: 'sign-in' }));
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'admin-key' }, 'Admin key'),
    input,
    h('p', { class: 'hint' }, 'The service\'s ADMIN_API_KEY. It is kept in this tab only and forgotten when the tab closes.'),
    button,
  );
  mount(view, h('section', { class: 'card narrow' }, h('h1', {}, 'Operations'), h('p', { class: 'lead' }, 'Sign in to run a sale: the line, seats, sales and controls.'), form));
  input.focus();
}

/** Where an event's sale stands, in a few words. */
function saleOf(event) {
  if (event.salesOpenedAt) return `Open since ${when(event.salesOpenedAt)}`;
  if (event.salesStartAt) return `Opens ${when(event.salesStartAt)}`;
  return 'No opening scheduled';
}

async function eventsView(view, ctx) {
  const events = await adminApi.events();
  if (!ctx.alive()) return;
  const rows = events.map((event) =>
    h(
      'tr',
      { dataset: { event: event.id } },
      h('td', {}, h('a', { href: `#/event/${encodeURIComponent(event.id)}`, 'aria-label': `Operate ${event.name}` }, event.name), h('span', { class: 'code muted small' }, ` ${event.code}`)),
      h('td', {}, event.category ?? '—'),
      h('td', {}, h('span', { class: `badge ${event.enabled ? 'status-succeeded' : 'status-failed'}` }, event.enabled ? 'On sale' : 'Disabled')),
      h('td', {}, saleOf(event)),
    ),
  );
  mount(
    view,
    h('h1', {}, 'Events'),
    h(
      'section',
      { class: 'card' },
      events.length === 0
        ? h('p', { class: 'muted' }, 'No events yet. Create one with POST /api/v1/admin/events.')
        : h(
            'div',
            { class: 'table-wrap' },
            h('table', { 'data-testid': 'events-table' }, h('thead', {}, h('tr', {}, ...['Event', 'Category', 'State', 'Sale'].map((name) => h('th', { scope: 'col' }, name)))), h('tbody', {}, ...rows)),
          ),
    ),
  );
}

const routes = [
  { screen: 'events', pattern: /^#?\/?$/, view: eventsView },
  { screen: 'event', pattern: /^#\/event\/([^/]+)$/, view: (view, ctx, id) => eventView(view, ctx, id, { onKeyRefused }) },
];

function onKeyRefused() {
  signOut('The admin key is no longer accepted (it may have been changed). Sign in again.');
}

async function render() {
  for (const fn of cleanups.splice(0)) fn();
  const current = ++generation;
  renderSession();
  const hash = location.hash || '#/';
  const route = routes.find((r) => r.pattern.test(hash));
  document.body.dataset.screen = adminKey() ? route?.screen ?? 'notFound' : 'signIn';
  if (!adminKey()) {
    signInView(viewEl);
    return;
  }
  if (!route) {
    mount(viewEl, h('section', { class: 'card narrow empty' }, h('h1', {}, 'Page not found'), h('a', { href: '#/' }, 'All events')));
    return;
  }
  const ctx = {
    alive: () => current === generation,
    onCleanup: (fn) => (current === generation ? cleanups.push(fn) : fn()),
  };
  mount(viewEl, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    await route.view(viewEl, ctx, ...route.pattern.exec(hash).slice(1).map(decodeURIComponent));
  } catch (error) {
    if (!ctx.alive()) return;
    if (error?.code === 'FORBIDDEN') return onKeyRefused();
    mount(viewEl, h('section', { class: 'card narrow' }, h('h1', {}, 'This page could not be loaded'), h('p', {}, describeError(error)), h('button', { class: 'btn secondary', type: 'button', onClick: rerender }, 'Try again')));
  }
}

// Never a blank page: anything that slips through still ends up as a readable message.
catchUnexpected();
window.addEventListener('hashchange', render);
render();
