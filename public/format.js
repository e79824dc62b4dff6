// Display helpers. Money is integer minor units (cents) everywhere; only this file turns it into text.

/** 12000 → "120.00", -4550 → "-45.50", 1234500 → "12,345.00". */
export function money(minor) {
  const n = Number(minor);
  if (!Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(n));
  const units = Math.floor(abs / 100).toLocaleString('en-US');
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}${units}.${cents}`;
}

/** "+120.00" for credits, "-45.50" for debits. */
export function signedMoney(minor) {
  return Number(minor) > 0 ? `+${money(minor)}` : money(minor);
}

/**
 * Parse what a person types into an amount field ("100", "100.5", "1,000.25") into minor units.
 * Returns null when it is not a positive amount with at most two decimals.
 */
export function parseMoney(text) {
  const cleaned = String(text ?? '').trim().replace(/,/g, '');
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) return null;
  const minor = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return minor > 0 ? minor : null;
}

const dateTime = new Intl.DateTimeFormat('en-US', {
  weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', hour: 'numeric', minute: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' });
const shortDateTime = new Intl.DateTimeFormat('en-US', {
  month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit',
});

/** "Sat, Dec 20, 2025, 7:30 PM" */
export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

/** "Sat, Dec 20, 2025, 7:30 PM – 10:00 PM" */
export function timeRange(startIso, endIso) {
  const end = new Date(endIso);
  return Number.isNaN(end.getTime()) ? when(startIso) : `${when(startIso)} – ${timeOnly.format(end)}`;
}

/** "Dec 20, 7:31:05 PM", for history tables. */
export function stamp(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : shortDateTime.format(d);
}

/** The time now (or of `date`), "7:31:05 PM": when a live view last heard from the server. */
export function timeOfDay(date = new Date()) {
  return date.toLocaleTimeString('en-US');
}

/** Milliseconds → "4:59" (never negative). */
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, '0')}`;
}

/** Waiting-room estimate in words. */
export function eta(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return 'calculating…';
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s === 0) return 'any moment now';
  if (s < 60) return `about ${s} s`;
  const minutes = Math.round(s / 60);
  return minutes === 1 ? 'about 1 minute' : `about ${minutes} minutes`;
}

/** First block of a UUID, for compact references. */
export function shortId(id) {
  return id ? String(id).split('-')[0] : '—';
}

export function titleCase(word) {
  const w = String(word ?? '').toLowerCase();
  return w.charAt(0).toUpperCase() + w.slice(1);
}

const SEAT_TYPE_NAME = { VIP: 'VIP', STANDARD: 'Standard', STANDING: 'Standing' };

/** "VIP", "Standard", "Standing". */
export function seatTypeName(type) {
  return SEAT_TYPE_NAME[type] ?? titleCase(type);
}

/** [11] → "11", [11, 12] → "11 and 12", [11, 12, 13] → "11, 12 and 13". */
export function seatList(numbers) {
  const list = [...numbers].map(String);
  return list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}
