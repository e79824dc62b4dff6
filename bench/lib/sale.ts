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

  const durationMs = last > first ? last - first : 0;
  const steps = Object.fromEntries(Object.entries(byStep).map(([step, samples]) => [step, summarize(samples)]));
  return {
    buyers: options.users.length,
    purchased: endToEnd.length,
    soldOut,
    failed,
    durationMs: round(durationMs, 1),
    purchasesPerSec: durationMs > 0 ? round((endToEnd.length / durationMs) * 1000, 1) : 0,
    endToEnd: summarize(endToEnd),
    inLine: summarize(inLine),
    buying: summarize(buying),
    admittedAtOnce,
    requests: latencies.length,
    rps: durationMs > 0 ? round((latencies.length / durationMs) * 1000, 0) : 0,
    latency: summarize(latencies),
    byStep: steps,
    outcomes,
    serverErrors,
    socketErrors,
  };
}
