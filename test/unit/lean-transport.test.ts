import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanHttpTransport } from '../../tools/http/lean-transport.js';
import { httpTransport } from '../../tools/http/transport.js';

/** The benchmark's lean client must answer exactly as the node:http transport does, whatever the framing. */
describe('lean HTTP transport', () => {
  let server: http.Server;
  let baseUrl: string;
  let open = 0;
  let most = 0;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      open++;
      most = Math.max(most, open);
      response.on('finish', () => open--);
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url!, 'http://x');
        const body = Buffer.concat(chunks).toString('utf8');
        switch (url.pathname) {
          case '/echo':
            response.setHeader('content-type', 'application/json; charset=utf-8');
            response.setHeader('x-twice', ['a', 'b']);
            response.end(JSON.stringify({ method: request.method, body, auth: request.headers.authorization ?? null, ünïcode: 'ok' }));
            return;
          case '/chunked':
            response.setHeader('content-type', 'application/json');
            response.write('[1,');
            setImmediate(() => response.end('2,3]'));
            return;
          case '/not-modified':
            response.statusCode = 304;
            response.setHeader('etag', '"v1"');
            response.end();
            return;
          case '/close':
            response.setHeader('connection', 'close');
            response.end('bye');
            return;
          case '/slow':
            setTimeout(() => response.end('late'), Number(url.searchParams.get('ms')));
            return;
          default:
            response.statusCode = 404;
            response.setHeader('content-type', 'application/problem+json');
            response.end(JSON.stringify({ code: 'NOT_FOUND' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const strip = ({ ms: _ms, sentAt: _sentAt, headers, ...rest }: { ms: number; sentAt: number; headers: Record<string, string> }) => ({
    ...rest,
    headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name))),
  });

  it('gives the same replies as the node:http transport', async () => {
    const lean = leanHttpTransport(baseUrl, { connections: 2 });
    const reference = httpTransport(baseUrl, { connections: 2 });
    const requests = [
      { method: 'POST', path: '/echo', headers: { authorization: 'Bearer t' }, body: { seat: 3 } },
      { method: 'GET', path: '/echo' },
      { method: 'PUT', path: '/echo', rawBody: 'plain' },
      { method: 'GET', path: '/chunked' },
      { method: 'GET', path: '/not-modified' },
      { method: 'GET', path: '/missing' },
    ];
    for (const request of requests) {
      const [ours, theirs] = await Promise.all([lean.send(request), reference.send(request)]);
      expect(strip(ours)).toEqual(strip(theirs));
    }
    lean.close();
    reference.close();
  });

  it('keeps to its connection limit and answers every request of a crowd', async () => {
    most = 0;
    const lean = leanHttpTransport(baseUrl, { connections: 3 });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => lean.send({ method: 'POST', path: '/echo', body: { i } })));
    expect(replies.map((reply) => JSON.parse(reply.body.body).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(3);
    lean.close();
  });

  it('opens a new connection after the server closes one', async () => {
    const lean = leanHttpTransport(baseUrl, { connections: 1 });
    expect((await lean.send({ method: 'GET', path: '/close' })).body).toBe('bye');
    expect((await lean.send({ method: 'GET', path: '/echo' })).status).toBe(200);
    lean.close();
  });

  it('gives status 0 for a request past its deadline, and goes on serving', async () => {
    const lean = leanHttpTransport(baseUrl, { connections: 1 });
    const late = await lean.send({ method: 'GET', path: '/slow?ms=5000', timeoutMs: 50 });
    expect(late.status).toBe(0);
    expect(late.error).toMatch(/TimeoutError/);
    expect((await lean.send({ method: 'GET', path: '/echo' })).status).toBe(200);
    lean.close();
  });

  it('refuses a header that would split the request', async () => {
    const lean = leanHttpTransport(baseUrl, { connections: 1 });
    const reply = await lean.send({ method: 'GET', path: '/echo', headers: { 'x-evil': 'a\r\nx-injected: 1' } });
    expect(reply.status).toBe(0);
    lean.close();
  });
});
