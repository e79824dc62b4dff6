import type { FastifyBaseLogger } from 'fastify';
import { Gauge, type Registry } from 'prom-client';

/** An event's line settings as the operator left them (the queue-control service). */
export interface LineControls {
  paused: boolean;
  maxActive: number;
  admitPerSecond: number;
}

/** What the seat and sales gauges read, each in one statement for every event (the sales module). */
export interface SaleFigures {
  seats(): Promise<{ eventId: string; scheduleId: string; available: number; held: number; sold: number }[]>;
  lastMinute(): Promise<{ eventId: string; revenue: number; purchases: number; refunds: number }[]>;
}

export interface SaleMetricsSources {
  controls?: (eventId: string) => Promise<LineControls>;
  sales?: SaleFigures;
  /** The events with a line in the shared queue store (from the queue gauges' own read). */
  lineEvents: () => Promise<string[]>;
}

/** A read shared by every gauge of one scrape: each gauge collects on its own, the store is asked once. */
export function sharedRead<T>(read: () => Promise<T>, maxAgeMs = 1_000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > maxAgeMs) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

/**
 * Gauges for operating a sale: seats per date, each event's purchases and refunds in the last minute, and
 * its line's settings. Seats and sales come from PostgreSQL (one statement each per scrape: dates not yet
 * over, payments of the last minute), so every instance reports the same figures: aggregate with max,
 * not sum. A failed read leaves its gauges empty for that scrape rather than failing the whole page.
 */
export function registerSaleMetrics(registry: Registry, sources: SaleMetricsSources, log: FastifyBaseLogger): void {
  const { controls, sales } = sources;
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (gauge: Gauge<L>) => Promise<void>) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          await fill(this);
        } catch (error) {
          log.warn({ err: error, metric: name }, 'a metric could not be read for this scrape');
        }
      },
    });

  const seats = sales ? sharedRead(() => sales.seats()) : undefined;
  if (sales && seats) {
    gauge('ticketing_schedule_seats', 'Seats of each date not yet over, by status (a lapsed hold counts as available)', ['event_id', 'schedule_id', 'status'], async (g) => {
      for (const date of await seats()) {
        const labels = { event_id: date.eventId, schedule_id: date.scheduleId };
        g.set({ ...labels, status: 'available' }, date.available);
        g.set({ ...labels, status: 'held' }, date.held);
        g.set({ ...labels, status: 'sold' }, date.sold);
      }
    });
    // Every event with a date on sale reports, zeros included, so a quiet minute is a zero and not a gap.
    const minute = sharedRead(async () => {
      const figures = new Map((await seats()).map((date) => [date.eventId, { revenue: 0, purchases: 0, refunds: 0 }]));
      for (const row of await sales.lastMinute()) figures.set(row.eventId, row);
      return figures;
    });
    const minuteGauge = (name: string, help: string, read: (row: { revenue: number; purchases: number; refunds: number }) => number) =>
      gauge(name, help, ['event_id'], async (g) => {
        for (const [eventId, row] of await minute()) g.set({ event_id: eventId }, read(row));
      });
    minuteGauge('ticketing_event_purchases_per_minute', 'Seats paid in the last 60 s, by the database clock', (row) => row.purchases);
    minuteGauge('ticketing_event_refunds_per_minute', 'Seats refunded in the last 60 s (by the buyer or a canceled date), by the database clock', (row) => row.refunds);
    minuteGauge('ticketing_event_revenue_per_minute', 'Paid minus refunded in the last 60 s, minor units', (row) => row.revenue);
  }

  if (controls) {
    // Events with a line (a join within a token's lifetime): the sales that are live. Settings are read
    // one event at a time, so events without a line are left out rather than asked about on every scrape.
    const settings = sharedRead(async () => {
      const read = await Promise.allSettled((await sources.lineEvents()).map(async (eventId) => [eventId, await controls(eventId)] as const));
      return read.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    });
    const controlGauge = (name: string, help: string, read: (line: LineControls) => number) =>
      gauge(name, help, ['event_id'], async (g) => {
        for (const [eventId, line] of await settings()) g.set({ event_id: eventId }, read(line));
      });
    controlGauge('ticketing_queue_paused', '1 while the operator has paused admissions', (line) => (line.paused ? 1 : 0));
    controlGauge('ticketing_queue_max_active', 'Admitted buyers allowed at once (the operator\'s setting)', (line) => line.maxActive);
    controlGauge('ticketing_queue_admit_per_second', 'Admissions allowed per second (the operator\'s setting; the measured rate is ticketing_queue_admissions_per_second)', (line) => line.admitPerSecond);
  }
}
