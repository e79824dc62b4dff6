/**
 * The first phase of a run: scenarios 1-3 on a wide-open queue, on freshly started servers (the full
 * sale, scenario 4, follows on a realistic line: sale-phase.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiUser } from '../../tools/http/api-client.js';
import type { ServiceProcess } from '../../tools/processes.js';
import { combineLoads, type LoadResult } from './load.js';
import { combineCpu, combineLoop, combineOthers, describeLoad, measure, startBaseline, startService, stopService } from './measure.js';
import { adminKey, JOIN_WARMUPS, only, openQueue, settings, SLICES, STORM_ROUNDS, WARMUP_USERS } from './options.js';
import { log, report, sideName, type Measured, type Side, type StormReport, type StormRound } from './report.js';
import { holdStorm, queueJoin, seatMapRead } from './scenarios.js';
import { round } from './stats.js';
import { Admin, benchClient, registerUsers } from './seed.js';
import { checkAfter, heldInDb } from './stores.js';

export interface World {
  users: ApiUser[];
  joinEvents: Record<Side, string>;
  warmupEvents: Record<Side, string[]>;
  readSchedule: string;
  stormSchedules: Record<Side, string[]>;
  /** A throwaway schedule per server for the hold path's warm-up, not measured. */
  warmupStorm: Record<Side, string>;
  tokens: string[];
}

/** A pause before each seat-map slice: what one server's slice leaves behind must not weigh on the other's. */
const SETTLE_MS = 1_000;

type Servers = { ours: ServiceProcess; baseline?: ServiceProcess | undefined };

/**
 * Scenarios 1-3, the service and the baseline taking turns (never both under load): queue join (which
 * also hands out the tokens the rest uses), seat map reads, and the hold storm (several rounds each on
 * fresh schedules; figures are over all rounds together, and every round must end with exactly 50 holds).
 */
async function openQueueScenarios(servers: Servers, world: World): Promise<void> {
  const { connections } = settings;
  const sides = (['ours', 'baseline'] as Side[]).filter((side) => servers[side]);
  const server = (side: Side) => servers[side]!;
  // Warm-up (JIT, pools, script cache), not measured: the warm-up users join several throwaway events, each
  // a new line, so both servers have compiled the join before the first slice.
  for (const side of sides) {
    for (const eventId of world.warmupEvents[side]) {
      await queueJoin({ baseUrl: server(side).baseUrl, users: world.users.slice(-WARMUP_USERS), eventId, connections });
    }
  }

  // 1. Queue join, in slices of users; the service's slices hand out the tokens for scenarios 2 and 3.
  const joinUsers = world.users.slice(0, Math.max(settings.users, settings.storm));
  world.tokens = new Array<string>(joinUsers.length);
  const joinSteps: Record<Side, (Measured<{ load: LoadResult; active: number }> & { ms: number })[]> = { ours: [], baseline: [] };
  for (let slice = 0; slice < SLICES; slice++) {
    const from = Math.floor((slice * joinUsers.length) / SLICES);
    const users = joinUsers.slice(from, Math.floor(((slice + 1) * joinUsers.length) / SLICES));
    for (const side of sides) {
      if (side === 'baseline' && !only.has('join')) continue;
      // As between the seat map's slices: the last slice's garbage is collected before the next is measured.
      await sleep(SETTLE_MS);
      const step = await measure(server(side), 'join', () =>
        queueJoin({ baseUrl: server(side).baseUrl, users, eventId: world.joinEvents[side], connections, keepTokens: side === 'ours' }),
      );
      if (side === 'ours') step.result.tokens.forEach((token, i) => (world.tokens[from + i] = token));
      joinSteps[side].push({ ...step, result: { load: step.result.load, active: step.result.active } });
    }
  }
  if (world.tokens.some((token) => !token) || joinSteps.ours.some((step) => step.result.load.non2xx > 0)) {
    throw new Error(`queue join failed for some users: ${JSON.stringify(joinSteps.ours.map((step) => step.result.load.outcomes))}`);
  }
  if (only.has('join')) {
    for (const side of sides) {
      const steps = joinSteps[side];
      if (steps.length === 0) continue;
      const load = combineLoads(steps.map((step) => step.result.load));
      report.scenarios.join[side] = {
        result: { ...load, active: steps.reduce((sum, step) => sum + step.result.active, 0) },
        cpu: combineCpu(steps),
        ...combineLoop(steps),
        others: combineOthers(steps),
      };
      describeLoad(`1. queue join (${sideName(side)})`, load);
    }
    report.scenarios.join.pairedRatios = pairedRatios(joinSteps.ours.map((step) => step.result.load), joinSteps.baseline.map((step) => step.result.load));
    await checkAfter('queue join');
  }

  // 2. Seat map reads: plain GETs (2) and GETs naming the map's ETag (2b), as the shop polls. The baseline has
  // no ETag: it answers both with its one SELECT, which is what every poll cost before. Time slices take turns
  // by variant and by server (2 A, 2 B, 2b A, 2b B, 2 A …), so the machine's drift over the run hits all four alike.
  if (only.has('seats')) {
    const probe = benchClient(server('ours').baseUrl, 1);
    const etag = (await probe.seats(world.tokens[0]!, world.readSchedule)).headers.etag;
    probe.close();
    if (!etag) throw new Error('the service answered the seat map without an ETag');
    const variants = [
      { scenario: 'seats', label: '2. seat map read', ifNoneMatch: undefined },
      { scenario: 'seatsPoll', label: '2b. seat map poll (If-None-Match)', ifNoneMatch: etag },
    ] as const;
    const read = (side: Side, ifNoneMatch: string | undefined, durationSec: number) =>
      seatMapRead({ baseUrl: server(side).baseUrl, tokens: world.tokens, scheduleId: world.readSchedule, connections, durationSec, ifNoneMatch });
    for (const { ifNoneMatch } of variants) for (const side of sides) await read(side, ifNoneMatch, 2);
    const steps = { seats: { ours: [], baseline: [] }, seatsPoll: { ours: [], baseline: [] } } as Record<
      (typeof variants)[number]['scenario'],
      Record<Side, (Measured<LoadResult> & { ms: number })[]>
    >;
    for (let slice = 0; slice < SLICES; slice++) {
      for (const { scenario, ifNoneMatch } of variants) {
        for (const side of sides) {
          // The last slice's garbage (in the server just measured and in this process) is collected before the next.
          await sleep(SETTLE_MS);
          steps[scenario][side].push(await measure(server(side), scenario, () => read(side, ifNoneMatch, settings.readSeconds / SLICES)));
        }
      }
    }
    for (const { scenario, label } of variants) {
      for (const side of sides) {
        const measured = steps[scenario][side];
        report.scenarios[scenario][side] = { result: combineLoads(measured.map((step) => step.result)), cpu: combineCpu(measured), ...combineLoop(measured), others: combineOthers(measured) };
        describeLoad(`${label} (${sideName(side)})`, report.scenarios[scenario][side]!.result);
      }
      report.scenarios[scenario].pairedRatios = pairedRatios(steps[scenario].ours.map((step) => step.result), steps[scenario].baseline.map((step) => step.result));
    }
    await checkAfter('seat map read');
  }

  // 3. Hold storm: the crowd starts at a different user each round, so nobody collects holds up to the per-user cap.
  if (only.has('hold')) {
    // Warm-up of the hold path (JIT, scripts), as the joins above: a small storm on a throwaway schedule
    // by the last joined users, who win at most one seat here and stay far below the per-user cap.
    const warmers = joinUsers.length - Math.min(WARMUP_USERS, joinUsers.length);
    for (const side of sides) {
      await holdStorm({
        baseUrl: server(side).baseUrl,
        users: world.users.slice(warmers, joinUsers.length),
        tokens: world.tokens.slice(warmers),
        scheduleId: world.warmupStorm[side],
        connections,
      });
    }
    const steps: Record<Side, (Measured<StormRound> & { ms: number })[]> = { ours: [], baseline: [] };
    for (let round = 0; round < STORM_ROUNDS; round++) {
      for (const side of sides) {
        const scheduleId = world.stormSchedules[side][round]!;
        const start = (round * 2 + (side === 'ours' ? 0 : 1)) * Math.floor(settings.storm / (2 * STORM_ROUNDS));
        const order = Array.from({ length: settings.storm }, (_, i) => (start + i) % settings.storm);
        steps[side].push(
          await measure(server(side), 'hold', async () => {
            const storm = await holdStorm({
              baseUrl: server(side).baseUrl,
              users: order.map((i) => world.users[i]!),
              tokens: order.map((i) => world.tokens[i]!),
              scheduleId,
              connections,
            });
            const inDb = await heldInDb(scheduleId);
            return { ...storm, seatsHeldInDb: inDb.seats, pendingInDb: inDb.pending };
          }),
        );
      }
    }
    for (const side of sides) {
      const rounds = steps[side].map((step) => step.result);
      const all = combineLoads(rounds);
      const held = rounds.map((r) => r.timeToAllHeldMs).filter((ms): ms is number => ms !== null);
      const summary: StormReport = {
        ...all,
        users: settings.storm,
        held: Math.min(...rounds.map((r) => r.held)),
        conflicts: rounds.reduce((sum, r) => sum + r.conflicts, 0),
        timeToAllHeldMs: held.length === rounds.length ? Math.max(...held) : null,
        seatsHeldInDb: Math.min(...rounds.map((r) => r.seatsHeldInDb)),
        pendingInDb: Math.min(...rounds.map((r) => r.pendingInDb)),
        rounds,
      };
      report.scenarios.hold[side] = { result: summary, cpu: combineCpu(steps[side]), ...combineLoop(steps[side]), others: combineOthers(steps[side]) };
      for (const [i, r] of rounds.entries()) {
        describeLoad(`3. hold storm round ${i + 1}, ${settings.storm} users (${sideName(side)})`, r);
        log(`   held ${r.held} (in PostgreSQL: ${r.seatsHeldInDb} seats HELD, ${r.pendingInDb} PENDING), all 50 held after ${r.timeToAllHeldMs} ms`);
      }
    }
    report.scenarios.hold.pairedRatios = pairedRatios(steps.ours.map((step) => step.result), steps.baseline.map((step) => step.result));
    await checkAfter('hold storm');
  }
}

/** Service over baseline for each pair of slices measured back to back (none without a baseline). */
const pairedRatios = (ours: readonly { rps: number }[], baseline: readonly { rps: number }[]) =>
  baseline.length === ours.length ? ours.map((slice, i) => (baseline[i]!.rps > 0 ? round(slice.rps / baseline[i]!.rps, 2) : 0)) : undefined;

export async function openQueuePhase(): Promise<World | undefined> {
  const wanted = ['join', 'seats', 'hold'].filter((name) => only.has(name));
  if (wanted.length === 0 && !only.has('sale') && !only.has('raw')) return undefined;
  const service = await startService('service', openQueue);
  log(`service up at ${service.baseUrl} (pid ${service.pid})`);
  const baseline = settings.baseline && wanted.length > 0 ? await startBaseline(openQueue) : undefined;
  if (baseline) log(`${sideName('baseline')} up at ${baseline.baseUrl} (pid ${baseline.pid}); the two take turns, only one is ever under load`);
  const client = benchClient(service.baseUrl, 8, adminKey);
  const admin = new Admin(client);
  const needsUsers = wanted.length > 0 || only.has('sale');
  const userCount = needsUsers ? Math.max(settings.users, settings.storm, settings.buyers + WARMUP_USERS, WARMUP_USERS) : 0;
  const world: World = {
    users: [],
    joinEvents: { ours: await admin.event('JOIN'), baseline: await admin.event('JOIN-BASE') },
    warmupEvents: { ours: [], baseline: [] },
    readSchedule: '',
    stormSchedules: { ours: [], baseline: [] },
    warmupStorm: { ours: '', baseline: '' },
    tokens: [],
  };
  for (let round = 0; round < JOIN_WARMUPS; round++) {
    world.warmupEvents.ours.push(await admin.event(`WARMUP-${round + 1}`));
    world.warmupEvents.baseline.push(await admin.event(`WARMUP-BASE-${round + 1}`));
  }
  // Every schedule the baseline reads or holds belongs to the service's join event: the tokens are for it.
  world.readSchedule = await admin.schedule(world.joinEvents.ours);
  world.warmupStorm = { ours: await admin.schedule(world.joinEvents.ours), baseline: await admin.schedule(world.joinEvents.ours) };
  for (let i = 0; i < STORM_ROUNDS; i++) {
    world.stormSchedules.ours.push(await admin.schedule(world.joinEvents.ours));
    world.stormSchedules.baseline.push(await admin.schedule(world.joinEvents.ours));
  }
  client.close();
  if (userCount > 0) {
    const registration = await registerUsers(service.baseUrl, userCount, settings.connections);
    describeLoad(`registered ${userCount} users (POST /users)`, registration.load);
    report.setup.registration = registration.load;
    world.users = registration.users;
  }
  if (wanted.length > 0) await openQueueScenarios({ ours: service, baseline }, world);
  await baseline?.stop();
  await stopService(service);
  return world;
}
