// Who is signed in on this device. It keeps the user (and their bearer token) across reloads and hands
// the bearer token to the API client, so no other module handles it; others follow changes with onSessionChange.
import { setAccessToken } from './api.js';
import { forget, load, save } from './storage.js';

const USER_KEY = 'user';

let user = null; // {id, userName, accessToken}
const listeners = new Set();

/** The signed-in user, or null. */
export function currentUser() {
  return user;
}

/** Picks up the user saved by an earlier visit, if any. */
export function loadUser() {
  const saved = load(USER_KEY);
  if (saved && typeof saved.accessToken === 'string' && saved.id) {
    user = saved;
    setAccessToken(saved.accessToken);
  }
  return user;
}

export function signIn(account) {
  user = { id: account.id, userName: account.userName, accessToken: account.accessToken };
  save(USER_KEY, user);
  setAccessToken(account.accessToken);
  changed();
}

export function signOut() {
  user = null;
  forget(USER_KEY);
  setAccessToken(null);
  changed();
}

/** Calls `listener(user)` after every sign-in and sign-out; returns the unsubscribe function. */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener(user);
}
