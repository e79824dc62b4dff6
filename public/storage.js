// The one place that touches the browser's localStorage. Values are JSON under a "ticketing." prefix,
// and a browser that refuses storage (private mode, full disk) still gets a working page that forgets on reload.
const PREFIX = 'ticketing.';

/** The value saved under `key`, or null when there is none (or it cannot be read). */
export function load(key) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + key) ?? 'null');
  } catch {
    return null;
  }
}

/** Saves `value` under `key`; null or undefined removes the key. */
export function save(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Private mode or full storage: the page still works, it just forgets on reload.
  }
}

export function forget(key) {
  save(key, null);
}
