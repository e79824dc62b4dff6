// Paying for the held seats: one request for all of them (one debit of the total) and then the confirmation,
// or, when the service refuses, which holds are gone and the sentence that says why.
import { api, ApiError } from './api.js';
import { rememberConfirmation } from './confirmation.js';
import { describeError, notify, reportError } from './messages.js';
import { go, hashes } from './nav.js';
import { refreshBalance } from './wallet.js';

/** The seat numbers of the holds in `list` that the service no longer has as pending (all of them if it cannot say). */
async function lapsedOf(list) {
  try {
    const pending = new Set((await api.myReservations()).filter((r) => r.status === 'PENDING').map((r) => r.id));
    return list.filter((hold) => !pending.has(hold.id)).map((hold) => hold.seatNumber);
  } catch {
    return list.map((hold) => hold.seatNumber);
  }
}

/**
 * Pays the holds in `list` and goes to the confirmation. Returns `{paid, gone}`: whether it was paid, and the seat
 * numbers whose holds are over (all of them after a purchase or a short balance, the lapsed ones after a 410).
 */
export async function payHolds({ ctx, turn, event, schedule, token, list, idempotencyKey }) {
  const seatNumbers = list.map((hold) => hold.seatNumber);
  try {
    const { payments, amount } = await api.pay(list.map((hold) => hold.id), token, idempotencyKey);
    turn.end(); // the server ends the turn once nothing is left to pay
    const first = payments[0];
    rememberConfirmation(first.id, {
      payments,
      amount,
      seats: list.map(({ seatNumber, seatType, price }) => ({ seatNumber, seatType, price })),
      event: { id: event.id, name: event.name },
      schedule: { id: schedule.id, startAt: schedule.startAt, endAt: schedule.endAt },
    });
    await refreshBalance();
    go(hashes.confirmation(first.id));
    return { paid: true, gone: seatNumbers };
  } catch (error) {
    if (!ctx.alive()) return { paid: false, gone: [] };
    const code = error instanceof ApiError ? error.code : '';
    if (code === 'INSUFFICIENT_BALANCE') {
      // All or nothing: every hold was released, with a failed payment recorded for each.
      notify(describeError(error, { seatNumbers }));
      refreshBalance();
      return { paid: false, gone: seatNumbers };
    }
    if (code === 'RESERVATION_EXPIRED' || code === 'RESERVATION_NOT_PAYABLE') {
      // Nothing was paid; the lapsed holds are over, the others can still be paid.
      const gone = await lapsedOf(list);
      notify(describeError(error, { seatNumbers: gone }));
      refreshBalance();
      return { paid: false, gone };
    }
    if (!turn.handle(error)) reportError(error, { seatNumbers, action: 'pay' });
    return { paid: false, gone: [] };
  }
}
