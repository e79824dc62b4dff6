import { sleep } from '../../tools/async.js';
import type { ApiUser, Reply } from '../../tools/http/api-client.js';
import { seededRandom } from '../../tools/random.js';
import { benchClient } from './seed.js';
import { round, summarize, type LatencySummary } from './stats.js';

export interface SaleResult {
  buyers: number;
  purchased: number;
  soldOut: number;
  failed: number;
  durationMs: number;
  purchasesPerSec: number;
  /** Join request sent → payment confirmed, per buyer who bought. */
  endToEnd: LatencySummary;
  /** Join request sent → admitted (ACTIVE). */
  inLine: LatencySummary;
  /** Admitted → payment confirmed: seat map, hold (and retries), payment. */
  buying: LatencySummary;
  admittedAtOnce: number;
  requests: number;
  rps: number;
  /** Every request, from the moment it had a socket until its response. */
  latency: LatencySummary;
  byStep: Record<string, LatencySummary>;
  /** "join 201", "hold 409 SEAT_UNAVAILABLE", … → count */
  outcomes: Record<string, number>;
  serverErrors: number;
  socketErrors: number;
  /** The raw samples behind the summaries: a symbol key, so the JSON report leaves them out and rounds combine exactly. */
  [SALE_SAMPLES]?: SaleSamples;
}

export const SALE_SAMPLES: unique symbol = Symbol('sale samples');

interface SaleSamples {
  endToEnd: number[];
  inLine: number[];
  buying: number[];
  latencies: number[];
  byStep: Record<Step, number[]>;
}

/** What one sale, or several run one after the other, add up to. */
type SaleCounts = Pick<SaleResult, 'buyers' | 'purchased' | 'soldOut' | 'failed' | 'durationMs' | 'admittedAtOnce' | 'outcomes' | 'serverErrors' | 'socketErrors'>;

function saleResult(counts: SaleCounts, samples: SaleSamples): SaleResult {
  const { durationMs } = counts;
  const perSecond = (count: number) => (durationMs > 0 ? (count / durationMs) * 1000 : 0);
  return {
    ...counts,
    durationMs: round(durationMs, 1),
    purchasesPerSec: round(perSecond(samples.endToEnd.length), 1),
    endToEnd: summarize(samples.endToEnd),
    inLine: summarize(samples.inLine),
    buying: summarize(samples.buying),
    requests: samples.latencies.length,
    rps: round(perSecond(samples.latencies.length), 0),
    latency: summarize(samples.latencies),
    byStep: Object.fromEntries(Object.entries(samples.byStep).map(([step, ms]) => [step, summarize(ms)])),
    [SALE_SAMPLES]: samples,
  };
}

/** Several sales as one: counts and time add up, percentiles come from every sample. */
export function combineSales(results: readonly SaleResult[]): SaleResult {
  const sum = (pick: (result: SaleResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const samples = results.map((result) => result[SALE_SAMPLES]!);
  const all = (pick: (each: SaleSamples) => number[]) => samples.flatMap(pick);
  const outcomes: Record<string, number> = {};
  for (const result of results) for (const [key, count] of Object.entries(result.outcomes)) outcomes[key] = (outcomes[key] ?? 0) + count;
  const steps = Object.keys(samples[0]?.byStep ?? {}) as Step[];
  return saleResult(
    {
      buyers: sum((r) => r.buyers),
      purchased: sum((r) => r.purchased),
      soldOut: sum((r) => r.soldOut),
      failed: sum((r) => r.failed),
      durationMs: sum((r) => r.durationMs),
      admittedAtOnce: sum((r) => r.admittedAtOnce),
      outcomes,
      serverErrors: sum((r) => r.serverErrors),
      socketErrors: sum((r) => r.socketErrors),
    },
    {
      endToEnd: all((s) => s.endToEnd),
      inLine: all((s) => s.inLine),
      buying: all((s) => s.buying),
      latencies: all((s) => s.latencies),
      byStep: Object.fromEntries(steps.map((step) => [step, all((s) => s.byStep[step])])) as Record<Step, number[]>,
    },
  );
}

type Step = 'join' | 'poll' | 'seats' | 'hold' | 'pay';

const MAX_HOLD_ATTEMPTS = 10;

/**
 * Scenario 4, full sale: every buyer arrives at once, joins the queue, polls until admitted (every
 * `pollMs` ± 25%), reads the seat map of their date, holds a random free seat (re-reading the map
 * after a 409), and pays from their balance. All buyers share `connections` keep-alive sockets.
 */
export async function fullSale(options: {
  baseUrl: string;
  users: readonly ApiUser[];
  eventId: string;
  scheduleIds: readonly string[];
  connections: number;
  pollMs: number;
  seed?: number;
  /** Give up on buyers still unfinished after this long. */
  timeoutSec?: number;
}): Promise<SaleResult> {
  const client = benchClient(options.baseUrl, options.connections);
  const random = seededRandom(options.seed ?? 777);
  const latencies: number[] = [];
  const byStep: Record<Step, number[]> = { join: [], poll: [], seats: [], hold: [], pay: [] };
  const outcomes: Record<string, number> = {};
  let serverErrors = 0;
  let socketErrors = 0;
  const deadline = performance.now() + (options.timeoutSec ?? 300) * 1000;

  /** One step of a buyer, counted; undefined when no answer came (socket error, timeout). */
  const call = async (step: Step, sent: Promise<Reply>): Promise<Reply | undefined> => {
    const reply = await sent;
    if (reply.status === 0) {
      socketErrors++;
      outcomes[`${step} socket error`] = (outcomes[`${step} socket error`] ?? 0) + 1;
      return undefined;
    }
    latencies.push(reply.ms);
    byStep[step].push(reply.ms);
    const code = reply.status >= 400 ? reply.body?.code : undefined;
    const key = `${step} ${reply.status}${code ? ` ${code}` : ''}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (reply.status >= 500) serverErrors++;
    return reply;
  };

  const endToEnd: number[] = [];
  const inLine: number[] = [];
  const buying: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let soldOut = 0;
  let failed = 0;
  let admittedAtOnce = 0;

  const buyer = async (user: ApiUser, index: number): Promise<void> => {
    const joined = await call('join', client.join(user, options.eventId));
    if (joined?.status !== 201) return void failed++;
    const started = performance.now() - joined.ms;
    first = Math.min(first, started);
    const token = joined.body.token as string;
    let status = joined.body.status as string;
    if (status === 'ACTIVE') admittedAtOnce++;
    while (status === 'WAITING') {
      if (performance.now() > deadline) return void failed++;
      await sleep(options.pollMs * (0.75 + random() * 0.5));
      const polled = await call('poll', client.queueStatus(token));
      if (polled?.status !== 200) return void failed++;
      status = polled.body.status;
    }
    const admitted = performance.now();

    let reservationId: string | undefined;
    let scheduleIndex = index % options.scheduleIds.length;
    for (let attempt = 0, datesTried = 0; !reservationId && attempt < MAX_HOLD_ATTEMPTS; attempt++) {
      const scheduleId = options.scheduleIds[scheduleIndex]!;
      const map = await call('seats', client.seats(token, scheduleId));
      if (map?.status !== 200) return void failed++;
      const free = (map.body as { seatNumber: number; status: string }[]).filter((seat) => seat.status === 'AVAILABLE');
      if (free.length === 0) {
        if (++datesTried >= 3) return void soldOut++;
        scheduleIndex = (scheduleIndex + 1) % options.scheduleIds.length;
        continue;
      }
      const seatNumber = free[Math.floor(random() * free.length)]!.seatNumber;
      const held = await call('hold', client.hold(user, token, scheduleId, seatNumber));
      if (held?.status === 201) reservationId = held.body.id;
      else if (held?.body?.code !== 'SEAT_UNAVAILABLE') return void failed++;
    }
    if (!reservationId) return void soldOut++;

    const paid = await call('pay', client.pay(user, token, reservationId));
    if (paid?.status !== 201) return void failed++;
    const done = performance.now();
    last = Math.max(last, done);
    endToEnd.push(done - started);
    inLine.push(admitted - started);
    buying.push(done - admitted);
  };

  await Promise.all(options.users.map((user, index) => buyer(user, index)));
  client.close();

  return saleResult(
    { buyers: options.users.length, purchased: endToEnd.length, soldOut, failed, durationMs: last > first ? last - first : 0, admittedAtOnce, outcomes, serverErrors, socketErrors },
    { endToEnd, inLine, buying, latencies, byStep },
  );
}
