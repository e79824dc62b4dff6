import type { ApiUser } from '../../tools/http/api-client.js';
import { stormSeats } from '../../tools/random.js';
import { runLoad, type LoadResult } from './load.js';
import { round } from './stats.js';

const bearer = (user: ApiUser) => `Bearer ${user.accessToken}`;

const TOKEN_FIELD = '"token":"';

/** The queue token of a join's reply: base64url and a dot, so never escaped in the JSON text. */
function tokenIn(text: string): string {
  const field = text.indexOf(TOKEN_FIELD);
  const end = field < 0 ? -1 : text.indexOf('"', field + TOKEN_FIELD.length);
  if (end < 0) throw new Error(`a join reply without a token: ${text.slice(0, 200)}`);
  return text.slice(field + TOKEN_FIELD.length, end);
}

/**
 * Scenario 1, queue join: every user asks for a queue token for one event, once (the path that creates
 * an entry, not the cheap "you already have one" path). Returns the tokens when `keepTokens`.
 */
export async function queueJoin(options: {
  baseUrl: string;
  users: readonly ApiUser[];
  eventId: string;
  connections: number;
  keepTokens?: boolean;
}): Promise<{ load: LoadResult; tokens: string[]; active: number }> {
  const { users, eventId } = options;
  const tokens = new Array<string>(users.length);
  let active = 0;
  const body = JSON.stringify({ eventId });
  const load = await runLoad({
    baseUrl: options.baseUrl,
    connections: options.connections,
    amount: users.length,
    durationSec: 300,
    request: (i) => ({ method: 'POST', path: '/api/v1/queue/tokens', headers: { authorization: bearer(users[i]!) }, body }),
    // The same reading of every reply on both sides: the load generator shares the machine with the server
    // under test, so a full JSON.parse on one side only (for the tokens) would slow that side's slices.
    onResponse: (i, status, text) => {
      if (status !== 201) return;
      if (options.keepTokens) tokens[i] = tokenIn(text);
      if (text.includes('"ACTIVE"')) active++;
    },
  });
  return { load, tokens, active };
}

/**
 * Scenario 2, seat map read: admitted users reading GET /schedules/{id}/seats for `durationSec`, as a shop
 * does: plain GETs, or (2b) GETs naming the map they already have in `If-None-Match`, as the shop's polling does.
 */
export async function seatMapRead(options: {
  baseUrl: string;
  tokens: readonly string[];
  scheduleId: string;
  connections: number;
  durationSec: number;
  ifNoneMatch?: string | undefined;
}): Promise<LoadResult> {
  const path = `/api/v1/schedules/${options.scheduleId}/seats`;
  const { tokens, ifNoneMatch } = options;
  return runLoad({
    baseUrl: options.baseUrl,
    connections: options.connections,
    durationSec: options.durationSec,
    request: (i) => ({
      method: 'GET',
      path,
      headers: { 'x-queue-token': tokens[i % tokens.length]!, ...(ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {}) },
    }),
  });
}

export interface StormResult extends LoadResult {
  users: number;
  held: number;
  conflicts: number;
  /** From the first request until the 50th seat was held (201), or null if fewer were held. */
  timeToAllHeldMs: number | null;
}

/** Scenario 3, hold storm: each of `users` admitted users fires one hold at the same schedule. */
export async function holdStorm(options: {
  baseUrl: string;
  users: readonly ApiUser[];
  tokens: readonly string[];
  scheduleId: string;
  connections: number;
}): Promise<StormResult> {
  const { users, tokens, scheduleId } = options;
  const seats = stormSeats(users.length);
  let held = 0;
  let conflicts = 0;
  let started = Number.POSITIVE_INFINITY;
  let allHeldAt: number | null = null;
  const load = await runLoad({
    baseUrl: options.baseUrl,
    connections: options.connections,
    amount: users.length,
    durationSec: 120,
    request: (i) => {
      if (i === 0) started = performance.now();
      return {
        method: 'POST',
        path: '/api/v1/reservations',
        headers: { authorization: bearer(users[i]!), 'x-queue-token': tokens[i]! },
        body: JSON.stringify({ scheduleId, seatNumber: seats[i]! }),
      };
    },
    onResponse: (_i, status, _body, at) => {
      if (status === 201 && ++held === 50) allHeldAt = at;
      if (status === 409) conflicts++;
    },
  });
  const reachedAt = allHeldAt as number | null;
  return {
    ...load,
    users: users.length,
    held,
    conflicts,
    timeToAllHeldMs: reachedAt === null ? null : round(reachedAt - started, 1),
  };
}
