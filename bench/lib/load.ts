import autocannon from 'autocannon';
import { round, summarize, type LatencySummary } from './stats.js';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Stop after this many responses (the run is bounded by requests)… */
  amount?: number;
  /** …or after this many seconds. With both, `amount` wins and `durationSec` is only a safety limit. */
  durationSec?: number;
  /** The i-th request of the run (i = 0, 1, 2, …). */
  request(i: number): LoadRequest;
  /** Called for every response; `body` is the raw text. */
  onResponse?(i: number, status: number, body: string, atMs: number): void;
}

/** Raw latency samples of a result: a symbol key, so spreads keep them and the JSON report leaves them out. */
export const SAMPLES: unique symbol = Symbol('latency samples');

export interface LoadResult {
  [SAMPLES]?: number[];
  requests: number;
  durationMs: number;
  rps: number;
  latency: LatencySummary;
  /** "201", "409 SEAT_UNAVAILABLE", "socket error", … → count */
  outcomes: Record<string, number>;
  non2xx: number;
  serverErrors: number;
  socketErrors: number;
}

const CODE = /"code"\s*:\s*"([A-Z_]+)"/;

/** Several runs of the same scenario as one: requests and time add up, percentiles come from all samples. */
export function combineLoads(results: readonly LoadResult[]): LoadResult {
  const samples = results.flatMap((result) => result[SAMPLES] ?? []);
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const durationMs = results.reduce((sum, result) => sum + result.durationMs, 0);
  const outcomes: Record<string, number> = {};
  for (const result of results) for (const [key, count] of Object.entries(result.outcomes)) outcomes[key] = (outcomes[key] ?? 0) + count;
  const combined: LoadResult = {
    requests,
    durationMs: round(durationMs, 1),
    rps: durationMs > 0 ? round((requests / durationMs) * 1000, 0) : 0,
    latency: summarize(samples),
    outcomes,
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
    serverErrors: results.reduce((sum, result) => sum + result.serverErrors, 0),
    socketErrors: results.reduce((sum, result) => sum + result.socketErrors, 0),
    [SAMPLES]: samples,
  };
  return combined;
}

/**
 * Closed-loop load on `connections` keep-alive sockets (autocannon: pre-built request buffers and a
 * cheap parser, so the generator leaves most of the two cores to the servers). Each request is built
 * on demand from a global counter, so every request can carry a different user, token and body.
 * Latency is measured per request from the moment it is built (just before it is written) to the end
 * of its response; percentiles are exact, from every sample.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`);
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let non2xx = 0;
  let serverErrors = 0;

  const connections = options.amount ? Math.min(options.connections, options.amount) : options.connections;
  const instance = autocannon({
    url: `${url.origin}`,
    connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSec ?? 10 }),
    timeout: 30,
    sampleInt: 50,
    requests: [
      {
        setupRequest: (_request, context) => {
          const i = next++;
          const built = options.request(i);
          const now = performance.now();
          if (now < first) first = now;
          context.i = i;
          context.t0 = now;
          return {
            method: built.method,
            path: built.path,
            headers: built.body === undefined ? (built.headers ?? {}) : { 'content-type': 'application/json', ...built.headers },
            ...(built.body === undefined ? {} : { body: built.body }),
          };
        },
        onResponse: (status, body, context) => {
          const now = performance.now();
          last = now;
          latencies.push(now - (context.t0 as number));
          let key = String(status);
          if (status >= 300) {
            non2xx++;
            if (status >= 500) serverErrors++;
            const code = CODE.exec(body)?.[1];
            if (code) key += ` ${code}`;
          }
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          options.onResponse?.(context.i as number, status, body, now);
        },
      },
    ],
  });
  let stopTimer: NodeJS.Timeout | undefined;
  if (options.amount && options.durationSec) stopTimer = setTimeout(() => instance.stop(), options.durationSec * 1000);
  const errors = await instance;
  if (stopTimer) clearTimeout(stopTimer);
  if (errors.errors > 0) outcomes['socket error/timeout'] = errors.errors;
  const durationMs = last > first ? last - first : 0;
  const result: LoadResult = {
    requests: latencies.length,
    durationMs: round(durationMs, 1),
    rps: durationMs > 0 ? round((latencies.length / durationMs) * 1000, 0) : 0,
    latency: summarize(latencies),
    outcomes,
    non2xx,
    serverErrors,
    socketErrors: errors.errors,
    [SAMPLES]: latencies,
  };
  return result;
}
