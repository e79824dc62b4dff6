import http from 'node:http';

export interface JsonReply<T = any> {
  status: number;
  body: T;
  /** problem+json `code` of an error reply, when there is one. */
  code?: string;
  /** From the moment a socket was free for the request to the end of the response (no client-side queueing). */
  ms: number;
}

/**
 * A keep-alive JSON client on node:http for set-up steps and multi-step buyer flows. At most
 * `connections` sockets are open at once; further requests wait for a free socket, like a browser
 * fleet behind a fixed number of connections.
 */
export class JsonClient {
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(baseUrl: string, connections = 64) {
    const url = new URL(baseUrl);
    if (url.hostname !== '127.0.0.1') throw new Error(`the benchmark only talks to 127.0.0.1, not ${url.hostname}`);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  request<T = any>(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<JsonReply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const allHeaders: Record<string, string | number> = { ...headers };
    if (payload !== undefined) {
      allHeaders['content-type'] = 'application/json';
      allHeaders['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      let sent = performance.now();
      const req = http.request(
        { host: this.#host, port: this.#port, path, method, headers: allHeaders, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            const status = res.statusCode ?? 0;
            const ms = performance.now() - sent;
            resolve({ status, body: parsed, ms, ...(status >= 400 && parsed?.code ? { code: String(parsed.code) } : {}) });
          });
          res.on('error', reject);
        },
      );
      req.once('socket', () => {
        sent = performance.now();
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Runs `task` for every item with at most `concurrency` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}
