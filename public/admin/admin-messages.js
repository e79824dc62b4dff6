// What the operator is told: the message strip above the page (message-strip.js), and the one table that turns an API error
// into a sentence (never a status code or an error name), as the shop does for buyers.
import { ApiError } from '/api.js';
import { h } from '/dom.js';
import { clearMessages, notify, UNEXPECTED } from '/message-strip.js';

export { clearMessages, notify, UNEXPECTED };

/**
 * A readable sentence for an error. `ctx.action` names what the operator was doing: 'sign-in', 'opening',
 * 'pause', 'resume', 'capacity', 'enable', 'disable', 'cancel-date', 'read'.
 */
export function describeError(error, ctx = {}) {
  if (!(error instanceof ApiError)) return UNEXPECTED;
  switch (error.code) {
    case 'FORBIDDEN':
      return ctx.action === 'sign-in'
        ? 'That admin key was not accepted. Check it against the service\'s ADMIN_API_KEY and try again.'
        : 'The admin key is no longer accepted (it may have been changed). Sign in again.';
    case 'SALE_ALREADY_OPEN':
      return 'The sale has already opened, so its opening time can no longer be changed.';
    case 'VALIDATION_FAILED':
      if (ctx.action === 'capacity') {
        return 'Max active and the admission rate must be whole numbers from 1 to 100,000. Please correct them and save again.';
      }
      if (ctx.action === 'opening') return 'That opening time is not valid. Pick a date and time, then schedule it again.';
      return error.detail ? `The service refused the change: ${error.detail}` : 'The service refused the change as invalid.';
    case 'NOT_FOUND':
      return ctx.action === 'cancel-date'
        ? 'That date no longer exists. The list has been refreshed.'
        : 'This event could not be found. It may have been removed; pick another event.';
    case 'RATE_LIMITED':
      return 'Too many requests. Wait a moment and try again.';
    case 'SERVICE_UNAVAILABLE':
      return 'The service is busy or one of its stores is unreachable. It will be tried again in a moment.';
    case 'INTERNAL':
      return 'Something went wrong on the server. Please try again; if it keeps happening, check the service logs.';
    case 'NETWORK':
      return 'Cannot reach the server. Check the connection; the page keeps trying.';
    default:
      return error.detail || error.title || `The request failed (status ${error.status}).`;
  }
}

/**
 * A quiet line inside a live panel saying why its last update failed while it keeps polling; gone with
 * the next good update.
 */
export function inlineProblem() {
  const el = h('p', { class: 'inline-problem', role: 'status', hidden: true });
  return {
    el,
    show(error) {
      el.hidden = false;
      el.textContent = `${describeError(error, { action: 'read' })} Retrying…`;
    },
    hide() {
      el.hidden = true;
    },
  };
}
