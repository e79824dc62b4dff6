import { expect } from 'vitest';

/** The JSON `data:` payloads of a Server-Sent Events body, in order; frames without data (heartbeats) are skipped. */
export async function* sseData<T = any>(body: ReadableStream<Uint8Array> | null): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = buffer.slice(0, end).split('\n').find((line) => line.startsWith('data: '));
      buffer = buffer.slice(end + 2);
      if (data) yield JSON.parse(data.slice(6));
    }
  }
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
