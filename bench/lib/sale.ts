import { JsonClient, type JsonReply } from './http.js';
import type { BenchUser } from './seed.js';
import { round, seededRandom, sleep, summarize, type LatencySummary } from './stats.js';

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
  users: readonly BenchUser[];
  eventId: string;
  scheduleIds: readonly string[];
  connections: number;
  pollMs: number;
  seed?: number;
  /** Give up on buyers still unfinished after this long. */
  timeoutSec?: number;
}): Promise<SaleResult> {
  const client = new JsonClient(options.baseUrl, options.connections);
  const random = seededRandom(options.seed ?? 777);
  const latencies: number[] = [];
  const byStep: Record<Step, number[]> = { join: [], poll: [], seats: [], hold: [], pay: [] };
  const outcomes: Record<string, number> = {};
  let serverErrors = 0;
  let socketErrors = 0;
  const deadline = performance.now() + (options.timeoutSec ?? 300) * 1000;

  const call = async (step: Step, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<JsonReply | undefined> => {
    try {
      const reply = await client.request(method, path, headers, body);
      latencies.push(reply.ms);
      byStep[step].push(reply.ms);
      const key = `${step} ${reply.status}${reply.code ? ` ${reply.code}` : ''}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (reply.status >= 500) serverErrors++;
      return reply;
    } catch {
      socketErrors++;
      outcomes[`${step} socket error`] = (outcomes[`${step} socket error`] ?? 0) + 1;
      return undefined;
    }
  };

  const endToEnd: number[] = [];
  const inLine: number[] = [];
  const buying: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let soldOut = 0;
  let failed = 0;
  let admittedAtOnce = 0;

  const buyer = async (user: BenchUser, index: number): Promise<void> => {
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const joined = await call('join', 'POST', '/api/v1/queue/tokens', auth, { eventId: options.eventId });
    if (joined?.status !== 201) return void failed++;
    const started = performance.now() - joined.ms;
    first = Math.min(first, started);
    const queue = { 'x-queue-token': joined.body.token as string };
    let status = joined.body.status as string;
    if (status === 'ACTIVE') admittedAtOnce++;
    while (status === 'WAITING') {
      if (performance.now() > deadline) return void failed++;
      await sleep(options.pollMs * (0.75 + random() * 0.5));
      const polled = await call('poll', 'GET', '/api/v1/queue/tokens/current', queue);
      if (polled?.status !== 200) return void failed++;
      status = polled.body.status;
    }
    const admitted = performance.now();

    let reservationId: string | undefined;
    let scheduleIndex = index % options.scheduleIds.length;
    for (let attempt = 0, datesTried = 0; !reservationId && attempt < MAX_HOLD_ATTEMPTS; attempt++) {
      const scheduleId = options.scheduleIds[scheduleIndex]!;
      const map = await call('seats', 'GET', `/api/v1/schedules/${scheduleId}/seats`, queue);
      if (map?.status !== 200) return void failed++;
      const free = (map.body as { seatNumber: number; status: string }[]).filter((seat) => seat.status === 'AVAILABLE');
      if (free.length === 0) {
        if (++datesTried >= 3) return void soldOut++;
        scheduleIndex = (scheduleIndex + 1) % options.scheduleIds.length;
        continue;
      }
      const seatNumber = free[Math.floor(random() * free.length)]!.seatNumber;
      const held = await call('hold', 'POST', '/api/v1/reservations', { ...auth, ...queue }, { scheduleId, seatNumber });
      if (held?.status === 201) reservationId = held.body.id;
      else if (held?.code !== 'SEAT_UNAVAILABLE') return void failed++;
    }
    if (!reservationId) return void soldOut++;

    const paid = await call('pay', 'POST', '/api/v1/payments', { ...auth, ...queue }, { reservationId });
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
