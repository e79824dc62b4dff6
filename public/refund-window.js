// The refund window as the shop shows it: a purchase can be canceled and refunded until 24 hours before its
// date starts (the service's REFUND_CUTOFF_SECONDS default). The service has the last word: a refund it
// refuses as too late comes back as REFUND_WINDOW_CLOSED and is shown as a sentence.
const REFUND_CUTOFF_MS = 24 * 60 * 60 * 1000;

/** What the account page says where the refund button would be once the window has closed. */
export const REFUNDS_CLOSED = 'Refunds close 24 hours before the date.';

/** True while a purchase for a date starting at `startAt` can still be refunded. */
export function refundOpen(startAt, now = Date.now()) {
  const start = Date.parse(startAt);
  return Number.isFinite(start) && start - now > REFUND_CUTOFF_MS;
}
