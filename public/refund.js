// "Cancel and refund" for one purchase on the account page: a confirmation step, then the refund
// (DELETE /reservations/{id} with an Idempotency-Key), and the wallet and history drawn again.
import { api, ApiError, newIdempotencyKey } from './api.js';
import { h, mount } from './dom.js';
import * as fmt from './format.js';
import { notify, reportError } from './messages.js';
import { REFUNDS_CLOSED } from './refund-window.js';
import { refreshBalance } from './wallet.js';

/** What stands where the button would be once the refund window has closed. */
export const refundClosedNote = () => h('p', { class: 'hint refund-closed', 'data-testid': 'refund-closed' }, REFUNDS_CLOSED);

/**
 * The control for a purchase that can still be refunded: `reservation` is the CONFIRMED reservation, `amount`
 * what comes back, and `onDone()` draws the history again once the service has answered.
 */
export function refundControl({ reservation, amount, onDone }) {
  const cell = h('div', { class: 'refund' });
  const key = newIdempotencyKey(); // one refund, however often "Yes, refund" is tried again
  const { seatNumber } = reservation;

  const offer = () => {
    mount(cell, h('button', { class: 'btn small secondary', type: 'button', onClick: ask }, 'Cancel and refund'));
  };

  function ask() {
    const yes = h('button', { class: 'btn small danger', type: 'button', onClick: () => refund(yes, no) }, 'Yes, refund');
    const no = h('button', { class: 'btn small ghost', type: 'button', onClick: offer }, 'Keep ticket');
    mount(
      cell,
      h('p', { class: 'refund-question' }, `Cancel seat ${seatNumber} and get ${fmt.money(amount)} back?`),
      h('div', { class: 'refund-actions' }, yes, no),
    );
    yes.focus();
  }

  async function refund(yes, no) {
    yes.disabled = true;
    no.disabled = true;
    yes.textContent = 'Refunding…';
    try {
      await api.cancelReservation(reservation.id, key);
      notify(`Seat ${seatNumber} is canceled and ${fmt.money(amount)} is back in your wallet.`, { kind: 'success' });
      await refreshBalance();
    } catch (error) {
      reportError(error, { seatNumber, action: 'refund' });
      if (error instanceof ApiError && error.code === 'REFUND_WINDOW_CLOSED') {
        // The service's clock has the last word: the window closed, whatever this browser's clock says.
        mount(cell, refundClosedNote());
        return;
      }
      offer();
    }
    onDone();
  }

  offer();
  return cell;
}
