// The operator's admin key, kept in this tab's sessionStorage only: it is gone when the tab closes, is
// never shared with other tabs, and never reaches localStorage or a cookie.
const KEY = 'ticketing.adminKey';

let key = null;

export function adminKey() {
  if (key === null) {
    try {
      key = sessionStorage.getItem(KEY);
    } catch {
      key = null;
    }
  }
  return key;
}

export function keepAdminKey(value) {
  key = value;
  try {
    sessionStorage.setItem(KEY, value);
  } catch {
    // Storage refused: the key lasts until this page reloads.
  }
}

export function forgetAdminKey() {
  key = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was stored.
  }
}
