import { defineLuaCommand, pinnedArg, type LuaArgument, type RedisClient } from '../../shared/redis.js';
import { ADMISSION_LOG_LIMIT, type AdmissionPolicy, type AdmissionStep, type EntryRef, type JoinCandidate, type JoinOutcome, joinLimited, type PrequeueEntry, type QueueState, soldOut, type QueueTicket, type WaitingRoom } from './waiting-room.js';
import { linePrelude } from './waiting-room.redis-lua.js';
import { ADMIT_LUA, CLOSE_SOLD_OUT_LUA, COMPLETE_LUA, JOIN_LUA, OPEN_LUA, PREQUEUE_LUA, REOPEN_LUA, TOUCH_LUA } from './waiting-room.redis-scripts.js';

/** Keys of one event share the `{eventId}` hash tag, so on Redis Cluster every script touches one slot. */
const keysOf = (eventId: string) => {
  const base = `q:{${eventId}}`;
  return {
    tickets: `${base}:tickets`,
    waiting: `${base}:waiting`,
    active: `${base}:active`,
    rate: `${base}:rate`,
    admitted: `${base}:admitted`,
    admittedTotal: `${base}:admitted-total`,
    seq: `${base}:seq`,
    prequeue: `${base}:prequeue`,
    soldOut: `${base}:sold-out`,
  };
};
/** In the order the scripts unpack them (see linePrelude). */
const lineKeys = (eventId: string) => {
  const k = keysOf(eventId);
  return [k.tickets, k.waiting, k.active, k.rate, k.admitted, k.admittedTotal, k.seq, k.prequeue, k.soldOut] as const;
};
type LineKeys = ReturnType<typeof lineKeys>;
/** zset eventId by its latest join: the lines that may still hold live tickets. */
const LINES_KEY = 'q:lines';

const LINE_INDEX_REFRESH_MS = 5_000;

/** Past the token lifetime, so a line outlives the last token it issued even with some clock skew. */
export const LINE_EXPIRY_MARGIN_MS = 10 * 60_000;

const defineLineCommand = <Args extends readonly LuaArgument[], Result>(redis: RedisClient, name: string, body: string) =>
  defineLuaCommand<LineKeys, [lineTtlMs: number, ...Args], Result>(redis, name, linePrelude + body, lineKeys('').length);

type JoinArgs = [
  userId: string, tokenId: string, tokenTtlMs: number, now: LuaArgument, opensAt: LuaArgument, limit: LuaArgument, windowMs: number,
  admit: 0 | 1, maxActive: number, admitPerSecond: number, activeTtlMs: number, waitingGraceMs: number, logLimit: number, paused: 0 | 1,
];
/** created -1: the line is closed (sold out); -2: over the join limit, the ticket field is the wait in ms. */
type JoinReply = [created: -2 | -1 | 0 | 1, ticket: string, state: number, admitted: string[], dropped: number, admittedTotal: number, openingDue: 0 | 1];
/** The lines' keys, then the user's join counter for the line (same slot). */
type JoinKeys = [...LineKeys, string];
type TouchArgs = [now: LuaArgument, activeTtlMs: number, ...userIdThenTokenId: string[]];
type TouchReply = number[];
type AdmitArgs = [now: LuaArgument, maxActive: number, admitPerSecond: number, activeTtlMs: number, waitingGraceMs: number, logLimit: number, opensAt: LuaArgument, paused: 0 | 1];
type AdmitReply = [admitted: string[], dropped: number, admittedTotal: number, openingDue: 0 | 1];
/** The entry, then '1' and the admission step's arguments (as AdmitArgs) to run the step after it, or nothing. */
type CompleteArgs = [userId: string, tokenId: string] | [userId: string, tokenId: string, step: 1, ...AdmitArgs];

/** A ticket as the scripts answer it (ticket_reply): tokenId|seq|issuedAt|expiresAt. */
function parseTicket(eventId: string, userId: string, encoded: string): QueueTicket {
  const [tokenId, seq, issuedAt, expiresAt] = encoded.split('|');
  return { tokenId: tokenId!, userId, eventId, seq: Number(seq), issuedAt: Number(issuedAt), expiresAt: Number(expiresAt) };
}

export class RedisWaitingRoom implements WaitingRoom {
  readonly #lineTtlMs: number;
  readonly #indexedAt = new Map<string, number>();
  readonly #join;
  readonly #touch;
  readonly #admit;
  readonly #complete;
  readonly #prequeue;
  readonly #open;
  readonly #closeSoldOut;
  readonly #reopen;

  /** `tokenTtlMs`: how long a queue token lives (QUEUE_TOKEN_TTL_SECONDS); a line lasts that long past its last write. */
  constructor(
    private readonly redis: RedisClient,
    { tokenTtlMs }: { tokenTtlMs: number },
  ) {
    this.#lineTtlMs = tokenTtlMs + LINE_EXPIRY_MARGIN_MS;
    this.#join = defineLuaCommand<JoinKeys, [lineTtlMs: number, ...JoinArgs], JoinReply>(redis, 'waitingRoomJoin', linePrelude + JOIN_LUA, (lineKeys('').length + 1) as JoinKeys['length']);
    this.#touch = defineLineCommand<TouchArgs, TouchReply>(redis, 'waitingRoomTouch', TOUCH_LUA);
    this.#admit = defineLineCommand<AdmitArgs, AdmitReply>(redis, 'waitingRoomAdmit', ADMIT_LUA);
    this.#complete = defineLineCommand<CompleteArgs, AdmitReply | null>(redis, 'waitingRoomComplete', COMPLETE_LUA);
    this.#prequeue = defineLineCommand<[opensAt: number, now: LuaArgument], string[] | null>(redis, 'waitingRoomPrequeue', PREQUEUE_LUA);
    this.#open = defineLineCommand<number[], number>(redis, 'waitingRoomOpen', OPEN_LUA);
    this.#closeSoldOut = defineLineCommand<[ttlMs: number], number>(redis, 'waitingRoomCloseSoldOut', CLOSE_SOLD_OUT_LUA);
    this.#reopen = defineLineCommand<[], number>(redis, 'waitingRoomReopen', REOPEN_LUA);
  }

  async join(candidate: JoinCandidate, now: number | undefined, policy?: AdmissionPolicy): Promise<JoinOutcome> {
    const { eventId, userId, limit } = candidate;
    const [created, encoded, state, admitted, dropped, admittedTotal, openingDue] = await this.#join(
      [...lineKeys(eventId), `q:{${eventId}}:joins:${userId}`],
      this.#lineTtlMs,
      userId,
      candidate.tokenId,
      candidate.ttlMs,
      pinnedArg(now),
      candidate.opensAt ?? '',
      limit?.max ?? '',
      limit?.windowMs ?? 0,
      policy ? 1 : 0,
      policy?.maxActive ?? 0,
      policy?.admitPerSecond ?? 0,
      policy?.activeTtlMs ?? 0,
      policy?.waitingGraceMs ?? 0,
      ADMISSION_LOG_LIMIT,
      policy?.paused === true ? 1 : 0,
    );
    if (created === -2) throw joinLimited(Number(encoded), limit!.max);
    if (created === -1) throw soldOut(eventId);
    const ticket = parseTicket(eventId, userId, encoded);
    if (created === 1) await this.#index(eventId, ticket.issuedAt, ticket.seq === 1);
    return {
      ticket,
      created: created === 1,
      state: stateOf(state),
      ...(created === 1 && policy ? { step: { admitted, dropped, admittedTotal, openingDue: openingDue === 1 } } : {}),
    };
  }

  /**
   * Records the line's latest join (on the line's clock: the ticket's issue time) in the index the
   * admission scheduler reads. The index lives in another slot than the line, so it costs a round trip
   * of its own: once per line every few seconds per instance is plenty for an index read with a
   * lifetime of hours. A line's first join is always recorded: after a Redis restart emptied the index
   * (and the line), the next join starts the line at 1 and puts it back at once.
   */
  async #index(eventId: string, joinedAt: number, first: boolean): Promise<void> {
    const indexed = this.#indexedAt.get(eventId);
    if (!first && indexed !== undefined && performance.now() - indexed < LINE_INDEX_REFRESH_MS) return;
    this.#indexedAt.set(eventId, performance.now());
    await this.redis.zadd(LINES_KEY, 'GT', joinedAt, eventId);
  }

  async touch(eventId: string, entries: readonly EntryRef[], now: number | undefined, policy: Pick<AdmissionPolicy, 'activeTtlMs'>): Promise<QueueState[]> {
    const answers = await this.#touch(
      lineKeys(eventId),
      this.#lineTtlMs,
      pinnedArg(now),
      policy.activeTtlMs,
      ...entries.flatMap((entry) => [entry.userId, entry.tokenId]),
    );
    return answers.map(stateOf);
  }

  async admit(eventId: string, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    return stepOf(await this.#admit(lineKeys(eventId), this.#lineTtlMs, ...admitArgs(now, policy)));
  }

  async prequeue(eventId: string, opensAt: number, now: number | undefined): Promise<PrequeueEntry[] | undefined> {
    const reply = await this.#prequeue(lineKeys(eventId), this.#lineTtlMs, opensAt, pinnedArg(now));
    if (!reply) return undefined;
    const entries: PrequeueEntry[] = [];
    for (let i = 0; i < reply.length; i += 2) entries.push({ userId: reply[i]!, seq: Number(reply[i + 1]) });
    return entries;
  }

  async open(eventId: string, order: readonly number[]): Promise<boolean> {
    return (await this.#open(lineKeys(eventId), this.#lineTtlMs, ...order)) === 1;
  }

  async closeSoldOut(eventId: string, ttlMs: number): Promise<boolean> {
    return (await this.#closeSoldOut(lineKeys(eventId), this.#lineTtlMs, ttlMs)) === 1;
  }

  async reopen(eventId: string): Promise<boolean> {
    return (await this.#reopen(lineKeys(eventId), this.#lineTtlMs)) === 1;
  }

  async complete(eventId: string, userId: string, tokenId: string): Promise<void> {
    await this.#complete(lineKeys(eventId), this.#lineTtlMs, userId, tokenId);
  }

  async completeAndAdmit(eventId: string, entry: EntryRef, now: number | undefined, policy: AdmissionPolicy): Promise<AdmissionStep> {
    const reply = await this.#complete(lineKeys(eventId), this.#lineTtlMs, entry.userId, entry.tokenId, 1, ...admitArgs(now, policy));
    return stepOf(reply!);
  }

  async events(since: number): Promise<string[]> {
    await this.redis.zremrangebyscore(LINES_KEY, '-inf', since);
    return this.redis.zrangebyscore(LINES_KEY, `(${since}`, '+inf');
  }

  async stats(eventId: string) {
    const k = keysOf(eventId);
    const [waiting, prequeued, active, admittedTotal] = await Promise.all([
      this.redis.zcard(k.waiting),
      this.redis.zcard(k.prequeue),
      this.redis.zcard(k.active),
      this.redis.get(k.admittedTotal),
    ]);
    return { waiting: waiting + prequeued, active, admittedTotal: Number(admittedTotal ?? 0) };
  }

  async admittedTotal(eventId: string): Promise<number> {
    return Number((await this.redis.get(keysOf(eventId).admittedTotal)) ?? 0);
  }

  async admissionLog(eventId: string): Promise<number[]> {
    return (await this.redis.lrange(keysOf(eventId).admitted, 0, -1)).map(Number);
  }

  async close(): Promise<void> {
    // The Redis client is shared and closed by its owner.
  }
}

const admitArgs = (now: number | undefined, policy: AdmissionPolicy): AdmitArgs => [
  pinnedArg(now),
  policy.maxActive,
  policy.admitPerSecond,
  policy.activeTtlMs,
  policy.waitingGraceMs,
  ADMISSION_LOG_LIMIT,
  policy.opensAt ?? '',
  policy.paused === true ? 1 : 0,
];

const stepOf = ([admitted, dropped, admittedTotal, openingDue]: AdmitReply): AdmissionStep => ({ admitted, dropped, admittedTotal, openingDue: openingDue === 1 });

const stateOf = (answer: number): QueueState => {
  if (answer === 0) return { status: 'ACTIVE' };
  if (answer > 0) return { status: 'WAITING', position: answer };
  if (answer === -3) return { status: 'WAITING', position: null };
  if (answer === -2) return { status: 'SOLD_OUT' };
  return { status: 'EXPIRED' };
};
