// Money and purchases: totals for the event, and purchases and revenue per minute over the last half hour
// by the database's clock (refunds count against the minute they happened in).
import { h, mount } from '/dom.js';
import { money } from '/format.js';
import { minuteBars } from '/admin/sparkline.js';

const total = (label, testId) => {
  const value = h('strong', { class: 'stat-value', 'data-testid': testId }, '…');
  return { el: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value), value };
};

export function createSalesPanel() {
  const revenue = total('Revenue', 'sales-revenue');
  const sold = total('Seats sold', 'sales-sold');
  const purchases = total('Purchases', 'sales-purchases');
  const refunds = total('Refunds', 'sales-refunds');
  const lastMinute = h('p', { class: 'small muted', 'data-testid': 'sales-last-minute' });
  const purchasesChart = h('div', { class: 'chart' });
  const revenueChart = h('div', { class: 'chart' });
  const el = h(
    'section',
    { class: 'card sales-panel', 'aria-labelledby': 'sales-heading' },
    h('h2', { id: 'sales-heading' }, 'Sales'),
    h('div', { class: 'stats' }, revenue.el, sold.el, purchases.el, refunds.el),
    h('h3', {}, 'Purchases per minute'),
    purchasesChart,
    h('h3', {}, 'Revenue per minute'),
    revenueChart,
    lastMinute,
  );

  return {
    el,
    update(figures) {
      revenue.value.textContent = money(figures.revenue);
      sold.value.textContent = String(figures.purchases - figures.refunds);
      purchases.value.textContent = String(figures.purchases);
      refunds.value.textContent = String(figures.refunds);
      const minutes = figures.perMinute;
      const bought = minutes.map((m) => m.purchases);
      const earned = minutes.map((m) => m.revenue);
      const busiest = Math.max(0, ...bought);
      mount(
        purchasesChart,
        minuteBars(bought, {
          className: 'purchases',
          label: `Seats bought per minute over the last ${minutes.length} minutes: ${bought.reduce((a, b) => a + b, 0)} in all, at most ${busiest} in one minute.`,
        }),
      );
      mount(
        revenueChart,
        minuteBars(earned, {
          className: 'revenue',
          label: `Revenue per minute over the last ${minutes.length} minutes: ${money(earned.reduce((a, b) => a + b, 0))} in all.`,
        }),
      );
      const now = minutes.at(-1);
      lastMinute.textContent = now
        ? `This minute: ${now.purchases} bought, ${now.refunds} refunded, ${money(now.revenue)} taken.`
        : '';
    },
  };
}
