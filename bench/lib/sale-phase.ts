/**
 * The full sale (scenario 4) on a realistic line, against the PostgreSQL floor of the same purchases. The
 * two take turns in rounds, a sale through the service and then the floor, each on fresh dates: the
 * machine's speed drifts by a fifth within minutes, and a sale measured in a slow minute against a floor
 * measured in a fast one (or the reverse) said more about the minute than about the service.
 */
import type { ApiUser } from '../../tools/http/api-client.js';
import { metric, scrape } from '../../tools/metrics.js';
import { combineFloors, purchaseFloor, type FloorResult } from './floor.js';
import { combineCpu, combineLoop, combineOthers, measure, startService, stopService } from './measure.js';
import { adminKey, BENCH_HOLD, databaseUrl, SALE_WARMUPS, saleQueue, settings, WARMUP_USERS } from './options.js';
import type { World } from './phases.js';
import { log, report, type Measured } from './report.js';
import { combineSales, fullSale, type SaleResult } from './sale.js';
import { saleSteps } from './sale-steps.js';
import { round } from './stats.js';
import { Admin, benchClient, chargeUsers, MAX_SEAT_PRICE } from './seed.js';
import { checkAfter, vacuumDatabase } from './stores.js';

interface SaleEvent {
  id: string;
  schedules: string[];
}

export async function salePhase(world: World): Promise<void> {
  const buyers = world.users.slice(0, settings.buyers);
  const warmupBuyers = world.users.slice(-WARMUP_USERS);
  const dates = Math.ceil(settings.buyers / 50);
  const service = await startService('service-sale', saleQueue);
  log(`service restarted for the full sale (QUEUE_MAX_ACTIVE=${settings.saleMaxActive}, QUEUE_ADMIT_PER_SECOND=${settings.saleAdmitPerSecond})`);
  const client = benchClient(service.baseUrl, 8, adminKey);
  const admin = new Admin(client);
  // Everyone can afford the dearest seat in each sale they take part in, with one to spare: a buyer buys once
  // through the service and once by the floor in every round (and once more in the sale's steps), a warm-up
  // buyer once per warm-up.
  const seatsEach = Math.max(2 * settings.saleRounds + 1, SALE_WARMUPS) + 1;
  report.setup.charges = await chargeUsers(service.baseUrl, [...buyers, ...warmupBuyers], seatsEach * MAX_SEAT_PRICE, settings.connections);
  const event = async (label: string, count: number): Promise<SaleEvent> => {
    const id = await admin.event(label);
    const schedules: string[] = [];
    for (let i = 0; i < count; i++) schedules.push(await admin.schedule(id));
    return { id, schedules };
  };
  const rounds: { ours: SaleEvent; floor: SaleEvent }[] = [];
  for (let i = 1; i <= settings.saleRounds; i++) rounds.push({ ours: await event(`SALE-${i}`, dates), floor: await event(`SALE-FLOOR-${i}`, dates) });
  const steps = await event('SALE-STEPS', dates);
  // Every buyer is let in at once, whatever the sale's admission rate: each step is one kind of request for all of them.
  const widened = await client.patchQueue(steps.id, { maxActive: buyers.length, admitPerSecond: 100_000 });
  if (widened.status !== 200) throw new Error(`could not widen the steps' line: ${widened.status} ${JSON.stringify(widened.body)}`);
  // The warm-up sales take every path the measured one does, waiting and polling included: each line lets
  // a fifth of its buyers in at a time. After one sale of 100 buyers all let in at once, V8's optimising
  // compiler was still at work through the measured sale, a fifth of the service's CPU in its first
  // seconds (perf): a one-off of a fresh process, which the other scenarios' warm-ups keep out of their
  // figures too.
  const warmups: SaleEvent[] = [];
  for (let i = 1; i <= SALE_WARMUPS; i++) {
    const warmup = await event(`SALE-WARMUP-${i}`, Math.ceil(warmupBuyers.length / 50));
    const narrowed = await client.patchQueue(warmup.id, { maxActive: Math.ceil(warmupBuyers.length / 5) });
    if (narrowed.status !== 200) throw new Error(`could not narrow the warm-up line: ${narrowed.status} ${JSON.stringify(narrowed.body)}`);
    warmups.push(warmup);
  }
  client.close();
  const sale = (target: SaleEvent, users: readonly ApiUser[]) =>
    fullSale({ baseUrl: service.baseUrl, users, eventId: target.id, scheduleIds: target.schedules, connections: settings.connections, pollMs: settings.pollMs });

  for (const warmup of warmups) await sale(warmup, warmupBuyers);
  const readsBefore = await seatMapReads(service.baseUrl);
  const sales: (Measured<SaleResult> & { ms: number })[] = [];
  const floors: FloorResult[] = [];
  for (const [i, { ours, floor }] of rounds.entries()) {
    const label = rounds.length > 1 ? `, round ${i + 1} of ${rounds.length}` : '';
    await vacuumDatabase();
    const measured = await measure(service, 'sale', () => sale(ours, buyers));
    sales.push(measured);
    describeSale(`4. full sale${label} (service)`, measured.result);
    await checkAfter(`full sale${label} (service)`);
    // The same two function calls per purchase from pgbench. The service stays up, with nothing to serve:
    // its scheduler's ticks are all it does meanwhile (the floor's CPU split counts them as the server's).
    await vacuumDatabase();
    const floored = await purchaseFloor({
      databaseUrl: databaseUrl.toString(),
      eventId: floor.id,
      scheduleIds: floor.schedules,
      userIds: buyers.map((user) => user.id),
      clients: settings.pool,
      holdTtlMs: BENCH_HOLD.ttlSeconds * 1000,
      maxHolds: BENCH_HOLD.maxPerUser,
      servicePid: service.pid,
    });
    floors.push(floored);
    log(
      `4. PostgreSQL floor${label} (pgbench, ${floored.clients} clients, hold + payment functions): ${floored.purchased}/${floored.transactions} bought, ` +
        `${floored.purchasesPerSec} purchases/s, ${floored.latencyAvgMs} ms per purchase on average`,
    );
    await checkAfter(`PostgreSQL floor${label}`);
  }
  const readsAfter = await seatMapReads(service.baseUrl);
  const purchased = sales.reduce((sum, step) => sum + step.result.purchased, 0);
  report.scenarios.sale.seatMapReads = Object.fromEntries(
    Object.entries(readsAfter).map(([source, reads]) => [source, round((reads - readsBefore[source]!) / Math.max(1, purchased), 2)]),
  );
  await vacuumDatabase();
  report.scenarios.sale.steps = await saleSteps({ baseUrl: service.baseUrl, servicePid: service.pid, users: buyers, eventId: steps.id, scheduleIds: steps.schedules, connections: settings.connections });
  await checkAfter('sale steps (service)');
  report.scenarios.sale.ours = { result: combineSales(sales.map((step) => step.result)), cpu: combineCpu(sales), ...combineLoop(sales), others: combineOthers(sales) };
  // After the report has the sale: stopping is where --profile attaches the sale windows' profile to it.
  await stopService(service);
  report.scenarios.sale.floor = combineFloors(floors);
  report.scenarios.sale.pairedRatios = sales.map((step, i) => (floors[i]!.purchasesPerSec > 0 ? round(step.result.purchasesPerSec / floors[i]!.purchasesPerSec, 2) : 0));
}

function describeSale(label: string, result: SaleResult) {
  log(
    `${label}: ${result.purchased}/${result.buyers} bought in ${(result.durationMs / 1000).toFixed(1)} s = ${result.purchasesPerSec} purchases/s; ` +
      `end-to-end p50 ${result.endToEnd.p50} ms p99 ${result.endToEnd.p99} ms; requests p99 ${result.latency.p99} ms; ` +
      `sold out ${result.soldOut}, failed ${result.failed}, 5xx ${result.serverErrors}`,
  );
}

/** The service's seat map reads so far by source (its /metrics counter): where the sale's map reads were answered from. */
async function seatMapReads(baseUrl: string): Promise<Record<string, number>> {
  const page = await scrape(baseUrl);
  return Object.fromEntries(['cache', 'shared', 'database'].map((source) => [source, metric(page, 'ticketing_seat_map_reads_total', { source })]));
}
