import net, { type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../tools/http/api-client.js';
import { Stream } from '../../tools/sse.js';
import { expectProblem } from '../support/expect.js';
import { expectOpenStreams, startListening } from '../support/sse.js';
import { backends, type TestApp } from '../support/test-app.js';
import { buyer, currentQueue } from './helpers.js';

const ACTIVE_TTL_MS = 60_000;
const STREAMS_PER_MINUTE = 4;

const ENV = {
  QUEUE_MAX_ACTIVE: '1',
  QUEUE_ACTIVE_TTL_SECONDS: String(ACTIVE_TTL_MS / 1000),
  QUEUE_WAITING_GRACE_SECONDS: '600',
  // Heartbeats within a test, so a stream left behind would refresh (and keep alive) its holder.
  QUEUE_STREAM_HEARTBEAT_MS: '100',
  RATE_LIMIT_STREAMS_PER_MINUTE: String(STREAMS_PER_MINUTE),
};

const streamPath = (token: string) => `/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(token)}`;

/** The app on a real port: inject() cannot hang up in the middle of a request. */
/** Asks for a stream on a raw socket and hangs up at once, like a tab closed while connecting. */
function connectAndDrop(port: number, token: string): void {
  const socket = net.connect(port, '127.0.0.1', () =>
    socket.end(`GET ${streamPath(token)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`),
  );
  socket.on('error', () => undefined).resume();
}

/**
 * Holds the stream route's first read until the server has seen the next connection close, so the
 * hang-up lands inside the set-up on every backend; resolves once the route is done with it.
 */
function holdFirstReadUntilHangUp(t: TestApp): () => Promise<void> {
  const hungUp = new Promise<void>((resolve) => t.app.server.once('connection', (socket: Socket) => socket.once('close', () => resolve())));
  const read = t.services.queue.current.bind(t.services.queue);
  const spy = vi.spyOn(t.services.queue, 'current').mockImplementationOnce(async (token) => {
    const view = await read(token);
    await hungUp;
    return view;
  });
  return async () => {
    await vi.waitFor(() => expect(spy).toHaveBeenCalled());
    await spy.mock.results[0]!.value;
    spy.mockRestore();
    await sleep(0);
  };
}

const expectStreams = (t: TestApp, base: string, expected: number) => expectOpenStreams(t.services.queueStreams, base, 'ticketing_queue_streams', expected);

describe.each(backends)('queue event streams (%s)', (backend) => {
  let t: TestApp;
  let port: number;
  let base: string;
  let client: ApiClient;

  beforeAll(async () => {
    ({ t, port, base, client } = await startListening(backend, 'streams', ENV));
  });
  afterAll(() => t?.close());

  it('a client that hangs up while its stream is set up leaves no stream behind', async () => {
    const { eventId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    const settled = holdFirstReadUntilHangUp(t);
    connectAndDrop(port, token);
    await settled();
    await expectStreams(t, base, 0);
  });

  it('an admitted buyer whose stream went away during set-up loses the slot after QUEUE_ACTIVE_TTL_SECONDS', async () => {
    const { eventId } = await client.createEventWithSchedule();
    const a = await buyer(client, eventId, 'a');
    const b = await client.join(await client.createUser('b'), eventId);
    expect(b.body.status).toBe('WAITING');
    const settled = holdFirstReadUntilHangUp(t);
    connectAndDrop(port, a.token);
    await settled();

    // Heartbeats keep running while time passes; only B shows signs of life.
    t.clock.advance(ACTIVE_TTL_MS / 2);
    await sleep(300);
    expect((await currentQueue(client, b.body.token)).body.status).toBe('WAITING');
    t.clock.advance(ACTIVE_TTL_MS / 2 + 1_000);
    await sleep(300);
    await t.services.queue.admitAll();
    expect((await currentQueue(client, b.body.token)).body).toMatchObject({ status: 'ACTIVE', position: 0 });
    expectProblem(await currentQueue(client, a.token), 401, 'QUEUE_TOKEN_EXPIRED');
  });

  it('a token holds at most QUEUE_STREAMS_PER_TOKEN (2) streams: a third one ends the oldest', async () => {
    const { eventId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const stream = new Stream(`${base}${streamPath(token)}`);
      await stream.until(() => true);
      streams.push(stream);
    }
    const [oldest, second, third] = streams as [Stream, Stream, Stream];
    let oldestEnded = false;
    void oldest.done.then(() => (oldestEnded = true));
    await vi.waitFor(() => expect(oldestEnded).toBe(true), { timeout: 2_000 });
    await expectStreams(t, base, 2);
    second.close();
    third.close();
    await expectStreams(t, base, 0);
  });

  it('limits stream opens per user to RATE_LIMIT_STREAMS_PER_MINUTE, keyed by the queue token (429 RATE_LIMITED)', async () => {
    const user = await client.createUser('restless');
    const tokens = [];
    for (let i = 0; i < 2; i++) tokens.push(await client.admittedToken(user, (await client.createEventWithSchedule()).eventId));
    // Opens with either of the user's tokens count together.
    for (let i = 0; i < STREAMS_PER_MINUTE; i++) {
      const stream = new Stream(`${base}${streamPath(tokens[i % 2]!)}`);
      await stream.until(() => true);
      stream.close();
    }
    const controller = new AbortController();
    try {
      const response = await fetch(`${base}${streamPath(tokens[0]!)}`, { signal: controller.signal });
      expect(response.status).toBe(429);
      expectProblem({ status: response.status, headers: Object.fromEntries(response.headers), body: await response.json() }, 429, 'RATE_LIMITED');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      controller.abort();
    }
    // Another buyer from the same address is not limited by it.
    const { eventId } = await client.createEventWithSchedule();
    const other = new Stream(`${base}${streamPath((await buyer(client, eventId, 'calm')).token)}`);
    await other.until(() => true);
    other.close();
    await expectStreams(t, base, 0);
  });
});

describe('queue event streams: 60 clients that connect and drop at once (postgres+redis, real port)', () => {
  let t: TestApp;
  let port: number;
  let base: string;
  let client: ApiClient;

  beforeAll(async () => {
    ({ t, port, base, client } = await startListening('postgres+redis', 'drops', ENV));
  });
  afterAll(() => t?.close());

  it('leaves no stream open and lets the abandoned buyer lose the slot after QUEUE_ACTIVE_TTL_SECONDS', async () => {
    const { eventId } = await client.createEventWithSchedule();
    const tokens: string[] = [];
    for (let i = 0; i < 60; i++) tokens.push((await client.join(await client.createUser(`drop-${i}`), eventId)).body.token);
    const reads = vi.spyOn(t.services.queue, 'current');
    let closed = 0;
    const counting = (socket: Socket) => socket.once('close', () => closed++);
    t.app.server.on('connection', counting);
    try {
      for (const token of tokens) connectAndDrop(port, token);
      await vi.waitFor(() => expect(closed).toBe(60), { timeout: 5_000 });
      await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(60), { timeout: 2_000 });
      await Promise.allSettled(reads.mock.results.map((result) => result.value));
    } finally {
      t.app.server.off('connection', counting);
      reads.mockRestore();
    }
    await sleep(0);
    await expectStreams(t, base, 0);

    // The first joiner was admitted; with nobody streaming, the slot goes to the next once they idle out.
    t.clock.advance(ACTIVE_TTL_MS / 2);
    await sleep(300);
    t.clock.advance(ACTIVE_TTL_MS / 2 + 1_000);
    await sleep(300);
    await t.services.queue.admitAll();
    expect((await currentQueue(client, tokens[1])).body).toMatchObject({ status: 'ACTIVE', position: 0 });
    expectProblem(await currentQueue(client, tokens[0]), 401, 'QUEUE_TOKEN_EXPIRED');
  });
});

describe.each(backends)('queue event streams at shutdown (%s)', (backend) => {
  it('a stream whose set-up finishes while the app closes is ended and does not hold app.close()', async () => {
    const { t, base, client } = await startListening(backend, 'shutdown', ENV);
    const { eventId } = await client.createEventWithSchedule();
    const { token } = await buyer(client, eventId);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read = t.services.queue.current.bind(t.services.queue);
    const reading = vi.spyOn(t.services.queue, 'current').mockImplementationOnce(async (queueToken) => {
      const view = await read(queueToken);
      await gate;
      return view;
    });
    const stopping = vi.spyOn(t.services.queueStreams, 'stop');
    const stream = new Stream(`${base}${streamPath(token)}`);
    let closed = false;
    let closing: Promise<void> | undefined;
    try {
      await vi.waitFor(() => expect(reading).toHaveBeenCalled());
      closing = t.app.close().then(() => {
        closed = true;
      });
      await vi.waitFor(() => expect(stopping).toHaveBeenCalled());
      await stopping.mock.results[0]!.value;
      release();
      await vi.waitFor(() => expect(closed).toBe(true), { timeout: 3_000 });
      await stream.done;
      expect(t.services.queueStreams.size).toBe(0);
    } finally {
      release();
      stream.close();
      await closing;
      await t.close();
    }
  });
});
