/**
 * What each kind of the full sale's requests costs the service. The sale interleaves joins, polls, seat
 * maps, holds and payments, so its CPU split says what a purchase costs but not which request does.
 * Here every buyer takes one step at a time, all buyers at once on the sale's connections: they join a
 * line wide enough for all, poll, read their date's seat map, hold a seat of their own, try one another
 * buyer holds, and pay. The service's CPU over each step, per request, is that request's cost at the rush.
 */
import type { ApiUser } from '../../tools/http/api-client.js';
import type { Reply } from '../../tools/http/transport.js';
import { meterCpu } from './processes.js';
import { log } from './report.js';
import { round } from './stats.js';
import { benchClient } from './seed.js';

export interface StepCost {
  step: string;
  /** The service's CPU per request of the step, in µs (user and kernel). */
  serverUs: number;
  requestsPerSec: number;
  /** Answers other than the step's expected status. */
  unexpected: number;
}

const SEATS_PER_DATE = 50;

export async function saleSteps(options: {
  baseUrl: string;
  servicePid: number;
  users: readonly ApiUser[];
  eventId: string;
  scheduleIds: readonly string[];
  connections: number;
}): Promise<StepCost[]> {
  const { users, scheduleIds } = options;
  if (users.length > scheduleIds.length * SEATS_PER_DATE) throw new Error('sale steps: more buyers than seats');
  const client = benchClient(options.baseUrl, options.connections);
  const dateOf = (i: number) => scheduleIds[Math.floor(i / SEATS_PER_DATE)]!;
  const seatOf = (i: number) => (i % SEATS_PER_DATE) + 1;
  /** The seat the next buyer on the same date holds (the first buyer's, for the date's last). */
  const neighbourSeatOf = (i: number) => {
    const onDate = Math.min(SEATS_PER_DATE, users.length - Math.floor(i / SEATS_PER_DATE) * SEATS_PER_DATE);
    return ((i + 1) % SEATS_PER_DATE) % onDate + 1;
  };
  const tokens: string[] = [];
  const holds: string[] = [];
  const costs: StepCost[] = [];

  const step = async (name: string, expected: number, send: (user: ApiUser, i: number) => Promise<Reply>) => {
    const stopMeter = await meterCpu(options.servicePid);
    const started = performance.now();
    const replies = await Promise.all(users.map(send));
    const seconds = (performance.now() - started) / 1000;
    const { cores } = await stopMeter();
    costs.push({
      step: name,
      serverUs: round(((cores.server ?? 0) * seconds * 1e6) / users.length, 0),
      requestsPerSec: round(users.length / seconds, 0),
      unexpected: replies.filter((reply) => reply.status !== expected).length,
    });
  };

  try {
    await step('join', 201, async (user, i) => {
      const reply = await client.join(user, options.eventId);
      tokens[i] = reply.body?.token as string;
      return reply;
    });
    await step('poll', 200, (_user, i) => client.queueStatus(tokens[i]!));
    await step('seat map', 200, (_user, i) => client.seats(tokens[i]!, dateOf(i)));
    await step('hold', 201, async (user, i) => {
      const reply = await client.hold(user, tokens[i]!, dateOf(i), seatOf(i));
      holds[i] = reply.body?.id as string;
      return reply;
    });
    await step('hold refused', 409, (user, i) => client.hold(user, tokens[i]!, dateOf(i), neighbourSeatOf(i)));
    await step('pay', 201, (user, i) => client.pay(user, tokens[i]!, holds[i]!));
  } finally {
    client.close();
  }
  log(`sale steps, ${users.length} buyers at once per step: ${costs.map((c) => `${c.step} ${c.serverUs} µs`).join(', ')} of the service's CPU per request`);
  return costs;
}
