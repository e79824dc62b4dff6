// What the buyer is told when something happens: the message strip above every screen (message-strip.js),
// and the one table that turns an API error into a sentence a person can act on (never a status code or an
// error name).
import { ApiError } from './api.js';
import { h } from './dom.js';
import { seatList } from './format.js';
import { rerender } from './nav.js';
import { REFUNDS_CLOSED } from './refund-window.js';
import { signOut } from './session.js';
import { ageMessages, clearMessages, notify, UNEXPECTED } from './message-strip.js';

export { ageMessages, clearMessages, notify, UNEXPECTED };

/** The one place that turns a thrown error into a message (and signs out on a dead session). */
export function reportError(error, ctx = {}) {
  if (error?.name === 'AbortError') return;
  if (error instanceof ApiError && error.code === 'UNAUTHORIZED') {
    signOut();
    notify(describeError(error), { keep: true });
    rerender();
    return;
  }
  if (!(error instanceof ApiError)) console.error(error);
  notify(describeError(error, ctx), { keep: ctx.keep });
}

/**
 * A line inside a live widget (seat map, waiting room) saying why its last update failed while it keeps
 * retrying; quieter than a message, and gone with the next good update.
 */
export function inlineProblem() {
  const el = h('p', { class: 'inline-problem', hidden: true });
  return {
    el,
    show(error) {
      el.hidden = false;
      el.textContent = `${describeError(error)} Retrying…`;
    },
    hide() {
      el.hidden = true;
    },
  };
}

/**
 * A readable sentence for an error. `ctx` adds what the screen knows:
 * { seatNumber or seatNumbers, action } where action is e.g. 'hold', 'pay', 'charge', 'queue', 'seats'.
 */
export function describeError(error, ctx = {}) {
  if (!(error instanceof ApiError)) return UNEXPECTED;
  const numbers = ctx.seatNumbers ?? (ctx.seatNumber ? [ctx.seatNumber] : []);
  const several = numbers.length > 1;
  const seat = ctx.seatNumber ? `Seat ${ctx.seatNumber}` : 'That seat';
  const yourSeat = numbers.length ? `${several ? 'seats' : 'seat'} ${seatList(numbers)}` : 'your seat';
  switch (error.code) {
    case 'SEAT_UNAVAILABLE':
      return `${seat} was just taken by someone else. Please pick another seat.`;
    case 'RESERVATION_EXPIRED':
      return several
        ? `Your holds on ${yourSeat} expired before payment, so those seats were released and nothing was paid.`
        : `Your hold on ${yourSeat} expired before payment, so the seat was released. Pick a seat again.`;
    case 'INSUFFICIENT_BALANCE':
      return several
        ? `Insufficient balance to pay for ${yourSeat}. Your holds were released; add funds to your wallet and pick your seats again.`
        : `Insufficient balance to pay for ${yourSeat}. Your hold was released; add funds to your wallet and pick a seat again.`;
    case 'HOLD_LIMIT_REACHED': {
      const most = /\d+/.exec(error.detail)?.[0];
      const held = most ? `${most} seats, the most one buyer can hold at once` : 'as many seats as one buyer can hold at once';
      return `You already hold ${held}. Pay for or release a seat before holding another.`;
    }
    case 'SCHEDULE_CANCELED':
      return 'This date was canceled by the organizer. Seats held on it were released without charge, and tickets bought for it are refunded to your wallet. Please choose another date.';
    case 'EVENT_SOLD_OUT':
      return 'Every seat of this event is sold. Refunds sometimes bring seats back: check the dates again later.';
    case 'REFUND_WINDOW_CLOSED':
      return `This ticket can no longer be refunded. ${REFUNDS_CLOSED}`;
    case 'RESERVATION_NOT_CANCELABLE':
      return 'This reservation can no longer be canceled: it was already canceled, refunded or has expired.';
    case 'RESERVATION_NOT_PAYABLE':
      return `This reservation can no longer be paid: it was already paid or canceled.`;
    case 'IDEMPOTENCY_CONFLICT':
      return 'This request was already sent with different details. Please try again.';
    case 'QUEUE_TOKEN_EXPIRED':
      return 'Your turn in the waiting room has ended. Join the line again to continue.';
    case 'QUEUE_TOKEN_INVALID':
      return 'Your place in the waiting room is no longer valid. Join the line again.';
    case 'QUEUE_NOT_ADMITTED':
      return 'You are still in the waiting room. Seats open up when it is your turn.';
    case 'UNAUTHORIZED':
      return 'Your session has ended. Please sign in again.';
    case 'FORBIDDEN':
      return 'That belongs to another account.';
    case 'NOT_FOUND':
      return error.detail || 'We could not find that. It may have been removed.';
    case 'VALIDATION_FAILED':
      if (ctx.action === 'charge') return 'That amount cannot be added. Enter a positive amount, like 50 or 12.50.';
      return error.detail ? `Please check your input: ${error.detail}` : 'Please check your input.';
    case 'RATE_LIMITED':
      return 'Too many requests. Wait a moment and try again.';
    case 'SERVICE_UNAVAILABLE':
      return 'The service is busy right now. Please try again in a moment.';
    case 'INTERNAL':
      return 'Something went wrong on our side. Please try again.';
    case 'NETWORK':
      return 'Cannot reach the server. Check your connection; we will keep trying.';
    default:
      return error.detail || error.title || `The request failed (status ${error.status}).`;
  }
}
