import type { AddressInfo } from 'node:net';
import { expect, vi } from 'vitest';
import { ApiClient } from '../../tools/http/api-client.js';
import { metric, scrape } from '../../tools/metrics.js';
import { sseData } from '../../tools/sse.js';
import { ADMIN_KEY, startApiApp, type Backend } from './test-app.js';

/** A test app on a real loopback port (streams need a socket), with a client that injects into it. */
export async function startListening(backend: Backend, scope: string, env: Record<string, string>) {
  const t = await startApiApp(backend, scope, env);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, port, base: `http://127.0.0.1:${port}`, client: ApiClient.inject(t.app, { adminKey: ADMIN_KEY }) };
}

/** The open streams as their hub and its /metrics gauge report them, once they settle at `expected`. */
export async function expectOpenStreams(hub: { size: number }, base: string, gauge: string, expected: number): Promise<void> {
  await vi.waitFor(() => expect(hub.size).toBe(expected), { timeout: 2_000 });
  expect(metric(await scrape(base), gauge)).toBe(expected);
}

/** Reads `data:` messages from a Server-Sent Events URL until `until` accepts one or the time runs out. */
export async function readStream(url: string, until: (message: any) => boolean, timeoutMs = 5_000): Promise<any[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const messages: any[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    for await (const message of sseData(response.body)) {
      messages.push(message);
      if (until(message)) return messages;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return messages;
}
