import { expect } from 'vitest';
import { sseData } from '../../tools/sse.js';

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
