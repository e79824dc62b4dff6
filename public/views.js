// Screens other than the seat map, gathered for the router.
export { accountView } from './account.js';
export { eventsView, eventView } from './catalog.js';
export { confirmationView } from './confirmation.js';
export { failureView, notFoundView } from './fallbacks.js';
export { signInView } from './sign-in.js';
export { queueView } from './waiting-room.js';
