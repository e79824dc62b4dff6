// The fair start, as anyone can check it (GET /events/{id}/fairness): before the opening, the published
// commitment to a seed; after it, the seed and the order the pre-queue was placed in.
import { h, mount } from '/dom.js';
import { when } from '/format.js';
import { inlineProblem } from '/admin/admin-messages.js';

const short = (hex) => (hex ? `${hex.slice(0, 16)}…` : '—');

export function createFairnessPanel() {
  const body = h('div', { 'data-testid': 'fairness' });
  const problem = inlineProblem();
  const el = h('section', { class: 'card fairness-panel', 'aria-labelledby': 'fairness-heading' }, h('h2', { id: 'fairness-heading' }, 'Fair start'), body, problem.el);
  return {
    el,
    fail(error) {
      problem.show(error);
    },
    update(fair) {
      problem.hide();
      el.dataset.opened = String(fair.opened);
      if (!fair.salesStartAt && !fair.opened) {
        mount(body, h('p', { class: 'muted' }, 'No opening is scheduled, so there is no pre-queue to shuffle: buyers are placed as they join.'));
        return;
      }
      if (!fair.opened) {
        mount(
          body,
          h('p', {}, `Buyers who join before ${when(fair.salesStartAt)} wait in a pre-queue with no position. At the opening they are shuffled with a seed whose hash is published now.`),
          h('dl', { class: 'facts' }, h('dt', {}, 'Commitment'), h('dd', { class: 'mono', title: fair.commitment ?? '' }, short(fair.commitment)), h('dt', {}, 'Algorithm'), h('dd', {}, fair.algorithm)),
        );
        return;
      }
      const order = fair.order ?? [];
      mount(
        body,
        h('p', {}, `Opened ${when(fair.openedAt)}. ${order.length === 0 ? 'Nobody was in the pre-queue.' : `${order.length} buyers from the pre-queue were placed in this order, each by its join number:`}`),
        order.length ? h('ol', { class: 'placed-order', 'data-testid': 'fairness-order' }, ...order.map((joined) => h('li', {}, `#${joined}`))) : null,
        h('dl', { class: 'facts' }, h('dt', {}, 'Seed'), h('dd', { class: 'mono', title: fair.seed ?? '' }, short(fair.seed)), h('dt', {}, 'Commitment'), h('dd', { class: 'mono', title: fair.commitment ?? '' }, short(fair.commitment))),
      );
    },
  };
}
