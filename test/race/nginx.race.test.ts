import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/http/logging.js';
import { nginxBinary, startNginx, type Nginx } from '../../tools/nginx.js';
import { sseData } from '../../tools/sse.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * deploy/nginx/ticketing.conf as the tests render it (tools/nginx.ts), checked for what a deployment
 * relies on: first against a bare upstream that shows exactly what nginx sends and how, then with the
 * service behind it. Clients connect from 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback) so that
 * "the real client" is an address nginx alone can report.
 */
const skip = !nginxBinary() && !process.env.CI;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One request on a fresh connection from `from`, so the source address is the one nginx sees. */
function send(url: string, path: string, options: { from?: string; method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const request = http.request(
      `${url}${path}`,
      {
        method: options.method ?? 'GET',
        agent: false,
        localAddress: options.from ?? '127.0.0.1',
        headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

describe.skipIf(skip)('deploy/nginx/ticketing.conf in front of a bare upstream', () => {
  const STREAMS = ['/api/v1/queue/tokens/current/stream', `/api/v1/schedules/${randomUUID()}/seats/stream`];
  let upstream: http.Server;
  let nginx: Nginx;
  let connections = 0;
  const seen: { url: string; httpVersion: string; headers: http.IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    upstream = http.createServer((request, response) => {
      seen.push({ url: request.url ?? '', httpVersion: request.httpVersion, headers: request.headers });
      if (STREAMS.some((stream) => request.url?.startsWith(stream))) {
        // No X-Accel-Buffering here: what reaches the client promptly does so because of the config.
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = () => response.write(`data: ${JSON.stringify({ sentAt: Date.now() })}\n\n`);
        tick();
        const timer = setInterval(tick, 200);
        response.on('close', () => clearInterval(timer));
        return;
      }
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    upstream.on('connection', () => connections++);
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    nginx = await startNginx({ upstreams: [`127.0.0.1:${(upstream.address() as AddressInfo).port}`] });
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('appends the real client to X-Forwarded-For, sends the scheme and one request id to both sides, over HTTP/1.1', async () => {
    const plain = await send(nginx.url, '/api/v1/events', { from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(plain.status).toBe(200);
    const upstreamSaw = seen.at(-1)!;
    expect(upstreamSaw.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.2');
    expect(upstreamSaw.headers['x-forwarded-proto']).toBe('http');
    expect(upstreamSaw.httpVersion).toBe('1.1');
    expect(upstreamSaw.headers.connection).toBeUndefined();
    expect(upstreamSaw.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(plain.headers['x-request-id']).toBe(upstreamSaw.headers['x-request-id']);

    // A caller's plain id is kept end to end; anything else is replaced, as the service would.
    const given = await send(nginx.url, '/api/v1/events', { headers: { 'x-request-id': 'support-42' } });
    expect([given.headers['x-request-id'], seen.at(-1)!.headers['x-request-id']]).toEqual(['support-42', 'support-42']);
    const odd = await send(nginx.url, '/api/v1/events', { headers: { 'x-request-id': 'two words' } });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.at(-1)!.headers['x-request-id']).toBe(odd.headers['x-request-id']);
  });

  it('keeps its connections to the upstream open between requests', async () => {
    const before = connections;
    for (let i = 0; i < 20; i++) expect((await send(nginx.url, '/api/v1/events')).status).toBe(200);
    // One worker, one request at a time: at most the first needs a new connection.
    expect(connections - before).toBeLessThanOrEqual(1);
  });

  it.each(STREAMS)('passes event-stream messages on as they are written (%s)', async (stream) => {
    const response = await fetch(`${nginx.url}${stream}?token=t`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const delays: number[] = [];
    for await (const message of sseData<{ sentAt: number }>(response.body)) {
      delays.push(Date.now() - message.sentAt);
      if (delays.length === 5) break;
    }
    // Held back by a buffering filter, they would arrive in bursts, once a buffer filled.
    expect(Math.max(...delays)).toBeLessThan(500);
  });

  it('refuses bodies over 16 KiB itself, like the service would, and keeps /metrics private', async () => {
    const before = seen.length;
    const small = await send(nginx.url, '/api/v1/users', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(15 * 1024) }) });
    expect(small.status).toBe(200);
    const large = await send(nginx.url, '/api/v1/users', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(17 * 1024) }) });
    expect(large.status).toBe(413);
    expect((await send(nginx.url, '/metrics')).status).toBe(404);
    expect(seen.length - before).toBe(1);
  });
});

describe.skipIf(skip)('the service behind nginx with TRUST_PROXY=1', () => {
  let t: TestApp;
  let nginx: Nginx;
  let instanceUrl: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    t = await startTestApp(
      'postgres+redis',
      // Own counters: the limit below must count this file's sign-ups only.
      { TRUST_PROXY: '1', RATE_LIMIT_SIGNUPS_PER_MINUTE: '3', REDIS_KEY_PREFIX: `${inject('redisPrefix')}nginx:${randomUUID().slice(0, 8)}:` },
      { logger: createLogger('info', logs) },
    );
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    instanceUrl = `http://127.0.0.1:${port}`;
    nginx = await startNginx({ upstreams: [`127.0.0.1:${port}`] });
  });

  afterAll(async () => {
    await nginx?.stop();
    await t?.close();
  });

  const signUp = (url: string, from: string, forgedFor: string) =>
    send(url, '/api/v1/users', {
      method: 'POST',
      from,
      headers: { 'x-forwarded-for': forgedFor },
      body: JSON.stringify({ userName: `nginx-${randomUUID().slice(0, 8)}` }),
    });

  it('counts the real client against the per-IP sign-up limit, whatever X-Forwarded-For it forges', async () => {
    const first = await Promise.all(['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((forged) => signUp(nginx.url, '127.0.0.2', forged)));
    expect(first.map((answer) => answer.status)).toEqual([201, 201, 201]);
    const fourth = await signUp(nginx.url, '127.0.0.2', '203.0.113.4');
    expect(fourth.status).toBe(429);
    expect(fourth.body.code).toBe('RATE_LIMITED');
    // Another client has a count of its own: the service sees clients, not nginx.
    expect((await signUp(nginx.url, '127.0.0.3', '203.0.113.1')).status).toBe(201);
    // The service's log names the real client and the id nginx gave the request.
    const logged = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.req?.url === '/api/v1/users');
    expect(logged.map((entry) => entry.req.remoteAddress).sort()).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3']);
    expect(logged.map((entry) => entry.reqId)).toContain(fourth.headers['x-request-id']);

    // Why the instances must be reachable through nginx only: asked directly, an instance believes
    // its one trusted hop, and the exhausted client gets through with a forged address.
    expect((await signUp(instanceUrl, '127.0.0.2', '198.51.100.7')).status).toBe(201);
  });
});
