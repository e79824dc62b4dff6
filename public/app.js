// Entry point: a hash router over the screens, plus the safety nets that keep the page from going blank.
import { h, mount } from './dom.js';
import { seatsView } from './seatmap.js';
import { mountHeader } from './header.js';
import { ageMessages } from './messages.js';
import { catchUnexpected } from './message-strip.js';
import { currentUser, loadUser } from './session.js';
import { refreshBalance } from './wallet.js';
import {
  accountView, confirmationView, eventView, eventsView, failureView, notFoundView, queueView, signInView,
} from './views.js';

const routes = [
  { screen: 'events', pattern: /^#?\/?$/, view: eventsView, nav: 'events' },
  { screen: 'event', pattern: /^#\/event\/([^/]+)$/, view: eventView, nav: 'events' },
  { screen: 'queue', pattern: /^#\/queue\/([^/]+)\/([^/]+)$/, view: queueView, nav: 'events' },
  { screen: 'seats', pattern: /^#\/seats\/([^/]+)\/([^/]+)$/, view: seatsView, nav: 'events' },
  { screen: 'confirmation', pattern: /^#\/confirmation\/([^/]+)$/, view: confirmationView, nav: 'account' },
  { screen: 'account', pattern: /^#\/account$/, view: accountView, nav: 'account' },
];

const viewEl = document.getElementById('view');
let generation = 0;
let cleanups = [];

function runCleanups() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch (error) {
      console.error(error);
    }
  }
}

async function render() {
  runCleanups();
  const current = ++generation;
  ageMessages();
  const hash = location.hash || '#/';
  const route = routes.find((r) => r.pattern.test(hash));
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', Boolean(route && link.dataset.nav === route.nav));
  }
  // Which screen is showing, for styling and for the browser tests.
  document.body.dataset.screen = currentUser() ? route?.screen ?? 'notFound' : 'signIn';

  if (!currentUser()) {
    signInView(viewEl);
    return;
  }
  if (!route) {
    notFoundView(viewEl);
    return;
  }
  const ctx = {
    alive: () => current === generation,
    onCleanup: (fn) => {
      if (current === generation) cleanups.push(fn);
      else fn();
    },
  };
  mount(viewEl, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    const params = route.pattern.exec(hash).slice(1).map(decodeURIComponent);
    await route.view(viewEl, ctx, ...params);
  } catch (error) {
    if (ctx.alive()) failureView(viewEl, error);
  }
}

// Never a blank page: anything that slips through still ends up as a readable message.
catchUnexpected();

window.addEventListener('hashchange', () => {
  render();
});

loadUser();
mountHeader();
if (currentUser()) refreshBalance();
render();
