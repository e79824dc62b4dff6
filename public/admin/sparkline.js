// Small SVG charts drawn from numbers the page already has: a sparkline of the line over the last minutes
// (sampled here, once a poll) and bars per minute of sales. Built with createElementNS, never markup strings.
const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

/** Samples of several series over time, the newest last; the oldest fall off past `keepMs`. */
export class SampleWindow {
  constructor(keepMs = 3 * 60_000) {
    this.keepMs = keepMs;
    this.samples = [];
  }

  add(values, at = Date.now()) {
    this.samples.push({ at, values });
    while (this.samples.length && this.samples[0].at < at - this.keepMs) this.samples.shift();
  }
}

/**
 * A sparkline of `series` ([{key, label, className}]) from a SampleWindow. The chart is an image with a
 * spoken summary; the numbers themselves are on the page next to it.
 */
export function sparkline(window, series, { width = 320, height = 64, label }) {
  const { samples, keepMs } = window;
  const newest = samples.at(-1)?.at ?? Date.now();
  // A young window spans what it has (at least a minute), so the first minute is not a sliver at the edge.
  const span = Math.min(keepMs, Math.max(60_000, newest - (samples[0]?.at ?? newest)));
  const top = Math.max(1, ...samples.flatMap((s) => series.map(({ key }) => s.values[key] ?? 0)));
  const x = (at) => width - ((newest - at) / span) * width;
  const y = (value) => height - 2 - (value / top) * (height - 4);
  const lines = series.map(({ key, className }) => {
    const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s.values[key] ?? 0).toFixed(1)}`).join(' ');
    return svgEl('polyline', { class: `spark-line ${className}`, points, fill: 'none' });
  });
  return svgEl(
    'svg',
    { class: 'sparkline', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    svgEl('title', {}, label),
    svgEl('line', { class: 'spark-base', x1: 0, x2: width, y1: height - 1, y2: height - 1 }),
    ...lines,
  );
}

/** Bars per minute for `values` (may be negative), with a zero line; an image with a spoken summary. */
export function minuteBars(values, { width = 480, height = 96, label, className = '' }) {
  const top = Math.max(1, ...values.map((v) => Math.abs(v)));
  const hasNegative = values.some((v) => v < 0);
  const zero = hasNegative ? height / 2 : height - 1;
  const scale = (hasNegative ? height / 2 - 2 : height - 3) / top;
  const slot = width / Math.max(1, values.length);
  const bars = values.map((value, i) =>
    svgEl('rect', {
      class: `bar-minute ${className} ${value < 0 ? 'negative' : ''}`,
      x: (i * slot + 1).toFixed(1),
      width: Math.max(1, slot - 2).toFixed(1),
      y: (value >= 0 ? zero - value * scale : zero).toFixed(1),
      height: Math.max(value === 0 ? 0 : 1, Math.abs(value) * scale).toFixed(1),
    }),
  );
  return svgEl(
    'svg',
    { class: 'minute-bars', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    svgEl('title', {}, label),
    svgEl('line', { class: 'spark-base', x1: 0, x2: width, y1: zero, y2: zero }),
    ...bars,
  );
}
