// Moving between screens. The router listens for hash changes, so the screens' addresses are built here
// and nowhere else, and a screen is redrawn by replaying a hash change.
const enc = encodeURIComponent;

export const hashes = {
  event: (eventId) => `#/event/${enc(eventId)}`,
  queue: (eventId, scheduleId) => `#/queue/${enc(eventId)}/${enc(scheduleId)}`,
  seats: (eventId, scheduleId) => `#/seats/${enc(eventId)}/${enc(scheduleId)}`,
  confirmation: (paymentId) => `#/confirmation/${enc(paymentId)}`,
};

export const go = (hash, { replace = false } = {}) => {
  if (replace) location.replace(hash);
  else location.hash = hash;
};

/** Draws the current screen again (after a sign-in or sign-out, or to retry) without changing the address. */
export const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
