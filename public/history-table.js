// The account page's history tables: a titled card with a table, or a sentence when there is nothing yet,
// and the newest-first order they all share.
import { h } from './dom.js';

/** Newest first by timestamp; rows written in the same millisecond fall back to the id (ledger ids grow). */
export const newestFirst = (key) => (a, b) =>
  (Date.parse(b[key]) || 0) - (Date.parse(a[key]) || 0) ||
  (Number(b.id) || 0) - (Number(a.id) || 0);

export function table(caption, headers, rows, emptyText, testId) {
  if (!rows.length) {
    return h('section', { class: 'card', 'data-testid': testId }, h('h2', {}, caption), h('p', { class: 'muted empty' }, emptyText));
  }
  return h(
    'section',
    { class: 'card', 'data-testid': testId },
    h('h2', {}, caption),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows),
      ),
    ),
  );
}
