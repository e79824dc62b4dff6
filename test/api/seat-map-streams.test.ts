import net, { type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HOUSE_PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { Stream } from '../../tools/sse.js';
import { expectProblem } from '../support/expect.js';
import { expectOpenStreams, startListening } from '../support/sse.js';
import { backends, type TestApp } from '../support/test-app.js';
import { buyer, holdOk } from './helpers.js';

const HOLD_TTL_MS = 30_000;
const STREAMS_PER_MINUTE = 6;
const ENV = {
  HOLD_TTL_SECONDS: String(HOLD_TTL_MS / 1000),
  SEAT_MAP_CACHE_MAX_AGE_MS: '60000',
  // Heartbeats within a test: they re-read the map (a lapse shows) and re-check the turn.
  SEAT_MAP_STREAM_HEARTBEAT_MS: '100',
  RATE_LIMIT_STREAMS_PER_MINUTE: String(STREAMS_PER_MINUTE),
};

type Seat = { seatNumber: number; status: string };
type Message = Seat[] | { status: 'EXPIRED' };
/** A map's seats that are not AVAILABLE, as {seatNumber: status}; the last message as it is. */
const taken = (m: Message): Record<string, string> =>
  Array.isArray(m) ? Object.fromEntries(m.filter((s) => s.status !== 'AVAILABLE').map((s) => [s.seatNumber, s.status])) : m;

const streamPath = (scheduleId: string, token: string) => `/api/v1/schedules/${scheduleId}/seats/stream?token=${encodeURIComponent(token)}`;

describe.each(backends)('seat map streams (%s)', (backend) => {
  let t: TestApp;
  let port: number;
  let base: string;
  let client: ApiClient;

  beforeAll(async () => {
    ({ t, port, base, client } = await startListening(backend, 'seatstreams', ENV));
  });
  afterAll(() => t?.close());

  const open = (scheduleId: string, token: string) => new Stream<Message>(`${base}${streamPath(scheduleId, token)}`);
  const expectStreams = (expected: number) => expectOpenStreams(t.services.seatMapStreams, base, 'ticketing_seat_map_streams', expected);

  it('sends the map at once, then each change of its date and no other, as the same map GET /seats answers', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const otherDate = await client.addSchedule(eventId, 1);
    const viewer = await buyer(client, eventId, 'viewer');
    const holder = await buyer(client, eventId, 'holder');
    const stream = open(scheduleId, viewer.token);
    try {
      await stream.until(() => true);
      expect(stream.messages[0]).toEqual((await client.seats(viewer.token, scheduleId)).body);
      await holdOk(client, holder.user, holder.token, otherDate, 1);
      const held = await holdOk(client, holder.user, holder.token, scheduleId, 3);
      await stream.until((m) => taken(m)[3] === 'HELD');
      expect((await client.cancel(holder.user, held.id)).status).toBe(200);
      await stream.until((m) => Array.isArray(m) && taken(m)[3] === undefined && stream.messages.indexOf(m) > 1);
      // Only changes were sent (heartbeats re-read the map, but an unchanged one is not sent again).
      expect(stream.messages.map(taken)).toEqual([{}, { 3: 'HELD' }, {}]);
    } finally {
      stream.close();
    }
    await expectStreams(0);
  });

  it('sends a lapsed hold as AVAILABLE, with no write to tell it', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const viewer = await buyer(client, eventId, 'viewer');
    const holder = await buyer(client, eventId, 'holder');
    await holdOk(client, holder.user, holder.token, scheduleId, 5);
    const stream = open(scheduleId, viewer.token);
    try {
      await stream.until(() => true);
      expect(taken(stream.messages[0]!)).toEqual({ 5: 'HELD' });
      t.clock.advance(HOLD_TTL_MS);
      await stream.until((m) => Array.isArray(m) && taken(m)[5] === undefined);
    } finally {
      stream.close();
    }
  });

  it('ends with {"status":"EXPIRED"} once the buyer\'s turn is over', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const shopper = await buyer(client, eventId, 'shopper');
    const stream = open(scheduleId, shopper.token);
    await stream.until(() => true);
    await client.charge(shopper.user, HOUSE_PRICES.VIP);
    const held = await holdOk(client, shopper.user, shopper.token, scheduleId, 2);
    expect((await client.pay(shopper.user, shopper.token, held.id)).status).toBe(201);
    await stream.done;
    expect(stream.messages.at(-1)).toEqual({ status: 'EXPIRED' });
    expect(stream.messages.slice(0, -1).map(taken).at(-1)).toEqual({ 2: 'SOLD' });
    await expectStreams(0);
  });

  it('answers a token that may not read the map with its problem, not a stream', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const elsewhere = await client.createEventWithSchedule();
    const stranger = await buyer(client, elsewhere.eventId, 'stranger');
    const read = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.json() };
    };
    expectProblem(await read(`/api/v1/schedules/${scheduleId}/seats/stream`), 401, 'QUEUE_TOKEN_INVALID');
    expectProblem(await read(streamPath(scheduleId, stranger.token)), 403, 'QUEUE_TOKEN_INVALID');
    const { token } = await buyer(client, eventId);
    expectProblem(await read(streamPath(elsewhere.scheduleId, token)), 403, 'QUEUE_TOKEN_INVALID');
    await expectStreams(0);
  });

  it('a token holds at most SEAT_MAP_STREAMS_PER_TOKEN (2) streams: a third one ends the oldest', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    const streams: Stream<Message>[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = open(scheduleId, token);
      await stream.until(() => true);
      streams.push(stream);
    }
    await streams[0]!.done;
    await expectStreams(2);
    for (const stream of streams) stream.close();
    await expectStreams(0);
  });

  it('a client that hangs up while its stream is set up leaves no stream behind', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    const hungUp = new Promise<void>((resolve) => t.app.server.once('connection', (socket: Socket) => socket.once('close', () => resolve())));
    const read = t.services.seatMaps.read.bind(t.services.seatMaps);
    const spy = vi.spyOn(t.services.seatMaps, 'read').mockImplementationOnce(async (id) => {
      const map = await read(id);
      await hungUp;
      return map;
    });
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.end(`GET ${streamPath(scheduleId, token)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`),
    );
    socket.on('error', () => undefined).resume();
    await vi.waitFor(() => expect(spy).toHaveBeenCalled());
    await spy.mock.results[0]!.value;
    spy.mockRestore();
    await sleep(50);
    await expectStreams(0);
  });

  it('limits stream opens per user to RATE_LIMIT_STREAMS_PER_MINUTE (429 RATE_LIMITED)', async () => {
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId, 'restless');
    for (let i = 0; i < STREAMS_PER_MINUTE; i++) {
      const stream = open(scheduleId, token);
      await stream.until(() => true);
      stream.close();
    }
    const response = await fetch(`${base}${streamPath(scheduleId, token)}`);
    expectProblem({ status: response.status, headers: Object.fromEntries(response.headers), body: await response.json() }, 429, 'RATE_LIMITED');
    await expectStreams(0);
  });
});

describe.each(backends)('seat map streams at shutdown (%s)', (backend) => {
  it('a stream whose set-up finishes while the app closes is ended and does not hold app.close()', async () => {
    const { t, base, client } = await startListening(backend, 'seatshutdown', ENV);
    const { eventId, scheduleId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read = t.services.seatMaps.read.bind(t.services.seatMaps);
    const reading = vi.spyOn(t.services.seatMaps, 'read').mockImplementationOnce(async (id) => {
      const map = await read(id);
      await gate;
      return map;
    });
    const stopping = vi.spyOn(t.services.seatMapStreams, 'stop');
    const stream = new Stream<Message>(`${base}${streamPath(scheduleId, token)}`);
    let closing: Promise<void> | undefined;
    try {
      await vi.waitFor(() => expect(reading).toHaveBeenCalled());
      let closed = false;
      closing = t.app.close().then(() => {
        closed = true;
      });
      await vi.waitFor(() => expect(stopping).toHaveBeenCalled());
      await stopping.mock.results[0]!.value;
      release();
      await vi.waitFor(() => expect(closed).toBe(true), { timeout: 3_000 });
      await stream.done.catch(() => undefined);
      expect(t.services.seatMapStreams.size).toBe(0);
    } finally {
      release();
      stream.close();
      await closing;
      await t.close();
    }
  });
});
