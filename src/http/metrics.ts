import type { FastifyInstance } from 'fastify';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerSaleMetrics, sharedRead, type LineControls, type SaleFigures } from './sale-metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The problem code the error handler answered with, for outcome metrics. */
    problemCode?: string;
  }
}

/**
 * Prometheus metrics at /metrics. HTTP latency for every route; outcomes of holds and payments by
 * result; queue gauges read from the shared queue store at scrape time, so every instance reports
 * the same global line (label by event).
 */
/** What the queue gauges read: the lines in the shared store, and this instance's open streams. */
export interface QueueFigures {
  events(): Promise<string[]>;
  stats(eventId: string): Promise<LineStats>;
  streams(): number;
}

interface LineStats {
  waiting: number;
  active: number;
  admittedTotal: number;
  admissionsPerSecond: number;
}

/** The sale's own figures, each optional: without one, its gauges are simply absent. */
export interface MetricsOptions {
  /** Paused, capacity and admission rate of an event's line, as the operator set them. */
  controls?: (eventId: string) => Promise<LineControls>;
  /** Seats per date and sales per event, each one read for every event. */
  sales?: SaleFigures;
  /** This instance's open seat-map streams. */
  seatMapStreams?: () => number;
  /** This instance's seat map reads so far, by where their answer came from. */
  seatMapReads?: () => Readonly<Record<string, number>>;
}

export function registerMetrics(app: FastifyInstance, queue: QueueFigures, options: MetricsOptions = {}): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerEventLoopBusy(registry);

  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const holds = new Counter({ name: 'ticketing_holds_total', help: 'Hold attempts by result', labelNames: ['result'], registers: [registry] });
  const payments = new Counter({ name: 'ticketing_payments_total', help: 'Payment attempts by result', labelNames: ['result'], registers: [registry] });
  const outcomes: Record<string, { counter: Counter<'result'>; success: string }> = {
    'POST /api/v1/reservations': { counter: holds, success: 'HELD' },
    'POST /api/v1/payments': { counter: payments, success: 'SUCCEEDED' },
  };

  // One read of every line per scrape, shared by the four queue gauges (each collects on its own).
  const readLines = sharedRead(() =>
    queue.events().then((eventIds) => Promise.all(eventIds.map(async (eventId) => [eventId, await queue.stats(eventId)] as [string, LineStats]))),
  );
  const queueGauge = (name: string, help: string, read: (stats: LineStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['event_id'],
      registers: [registry],
      async collect() {
        const lines = await readLines();
        this.reset();
        for (const [eventId, stats] of lines) this.set({ event_id: eventId }, read(stats));
      },
    });
  queueGauge('ticketing_queue_waiting', 'Users waiting in line', (stats) => stats.waiting);
  queueGauge('ticketing_queue_active', 'Users admitted and shopping', (stats) => stats.active);
  queueGauge('ticketing_queue_admitted', 'Users ever admitted (use rate() for admissions/s)', (stats) => stats.admittedTotal);
  queueGauge('ticketing_queue_admissions_per_second', 'Measured admission rate, 30 s window', (stats) => stats.admissionsPerSecond);
  new Gauge({
    name: 'ticketing_queue_streams',
    help: 'Open queue event streams on this instance',
    registers: [registry],
    collect() {
      this.set(queue.streams());
    },
  });

  const { seatMapStreams } = options;
  if (seatMapStreams) {
    new Gauge({
      name: 'ticketing_seat_map_streams',
      help: 'Open seat map streams on this instance',
      registers: [registry],
      collect() {
        this.set(seatMapStreams());
      },
    });
  }

  const { seatMapReads } = options;
  if (seatMapReads) {
    const grown = growthSinceLastCall();
    new Counter({
      name: 'ticketing_seat_map_reads_total',
      help: 'Seat map reads by source: cache (no PostgreSQL), shared (joined a read in flight), database (a read of its own)',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        for (const [source, reads] of Object.entries(seatMapReads())) this.inc({ source }, grown(source, reads));
      },
    });
  }

  registerSaleMetrics(registry, { ...options, lineEvents: async () => (await readLines()).map(([eventId]) => eventId) }, app.log);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
    const outcome = outcomes[`${request.method} ${route}`];
    if (outcome) outcome.counter.inc({ result: reply.statusCode < 400 ? outcome.success : (request.problemCode ?? String(reply.statusCode)) });
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

/**
 * Seconds this instance's event loop spent busy, so `rate()` of it is the share of time its one thread
 * was at work. It is the saturation signal of a Node process: at a flash sale the thread can be busy
 * nearly all the time while its CPU seconds say two thirds of a core, the rest spent waiting for a core
 * or in the kernel on its behalf.
 */
function registerEventLoopBusy(registry: Registry): void {
  const grown = growthSinceLastCall();
  // Counted from here: the start-up before the server listens is not the load it serves.
  grown('active', performance.eventLoopUtilization().active);
  new Counter({
    name: 'nodejs_eventloop_busy_seconds_total',
    help: 'Time the event loop spent busy (rate() is its utilization)',
    registers: [registry],
    collect() {
      this.inc(grown('active', performance.eventLoopUtilization().active) / 1000);
    },
  });
}

/**
 * For a counter whose running total is kept elsewhere (prom-client's counters only add): what each named
 * total grew by since the previous call, so each scrape adds just that.
 */
function growthSinceLastCall(): (name: string, total: number) => number {
  const previous = new Map<string, number>();
  return (name, total) => {
    const growth = total - (previous.get(name) ?? 0);
    previous.set(name, total);
    return growth;
  };
}
