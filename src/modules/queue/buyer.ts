import { AppError } from '../../shared/errors.js';

/** What a verified, admitted queue token grants: the right to buy for one event. */
export interface Buyer {
  tokenId: string;
  userId: string;
  eventId: string;
}

/** A queue token is signed for one event; using it for another is refused as if it were forged. */
export function assertBuyerFor(buyer: Buyer, eventId: string): void {
  if (buyer.eventId !== eventId) {
    throw new AppError('QUEUE_TOKEN_INVALID', 'The queue token was issued for another event.', { status: 403 });
  }
}
