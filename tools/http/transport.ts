import http from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * The one HTTP client of the tests, the benchmark and the scripts, at the level of single requests:
 * JSON in and out, a deadline on every request, a timing on every reply, and two transports, in-process
 * (Fastify's inject) and real HTTP on keep-alive sockets. Buyer-level calls are in api-client.ts.
 */

export interface Reply<T = any> {
  /** 0 when no HTTP answer came back (refused, reset, timed out). */
  status: number;
  /** Lower-case names; a repeated header is joined with ", ". */
  headers: Record<string, string>;
  /** Parsed when the answer is JSON, the text otherwise; undefined when empty. */
  body: T;
  /** From the moment the request had a connection to the end of the answer (waiting for a free one is left out). */
  ms: number;
  /** When the call was made (epoch ms). */
  sentAt: number;
  /** The transport error when status is 0. */
  error?: string;
}

export interface Request {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON, with content-type application/json unless the headers name another… */
  body?: unknown;
  /** …or sent exactly as given. */
  rawBody?: string;
  /** No answer within this long gives status 0 (default 30 s). */
  timeoutMs?: number;
}

export interface Transport {
  send(request: Request): Promise<Reply>;
  /** Closes idle connections; in-flight requests still finish. */
  close(): void;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

function encode(request: Request): { headers: Record<string, string>; payload: string | undefined } {
  const headers = { ...request.headers };
  if (request.rawBody !== undefined) return { headers, payload: request.rawBody };
  if (request.body === undefined) return { headers, payload: undefined };
  headers['content-type'] ??= 'application/json';
  return { headers, payload: JSON.stringify(request.body) };
}

function decode(text: string, contentType: unknown): unknown {
  if (!text) return undefined;
  if (!/json/.test(String(contentType ?? ''))) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function flatHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

function failed(error: unknown, started: number, sentAt: number): Reply {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  return { status: 0, headers: {}, body: undefined, ms: performance.now() - started, sentAt, error: `${name ?? 'Error'}: ${code ?? message}` };
}

const timeoutError = (ms: number) => Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' });

/** In-process: the whole Fastify pipeline, no sockets. */
export function injectTransport(app: FastifyInstance, defaults: { timeoutMs?: number } = {}): Transport {
  return {
    async send(request) {
      const { headers, payload } = encode(request);
      const sentAt = Date.now();
      const started = performance.now();
      const timeoutMs = request.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      try {
        const response = await Promise.race([
          app.inject({ method: request.method as 'GET', url: request.path, headers, ...(payload === undefined ? {} : { payload }) }),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeoutError(timeoutMs)), timeoutMs))),
        ]);
        const ms = performance.now() - started;
        return { status: response.statusCode, headers: flatHeaders(response.headers), body: decode(response.body, response.headers['content-type']), ms, sentAt };
      } catch (error) {
        return failed(error, started, sentAt);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {},
  };
}

export interface HttpOptions {
  timeoutMs?: number;
  /** At most this many sockets at once; further requests wait for a free one (default: no limit). */
  connections?: number;
  /** Keep sockets open between requests (default true). */
  keepAlive?: boolean;
}

/** Real HTTP on node:http. */
export function httpTransport(baseUrl: string, options: HttpOptions = {}): Transport {
  const url = new URL(baseUrl);
  const prefix = url.pathname.replace(/\/$/, '');
  const connections = options.connections ?? Infinity;
  const agent = new http.Agent({
    keepAlive: options.keepAlive ?? true,
    maxSockets: connections,
    ...(Number.isFinite(connections) ? { maxFreeSockets: connections } : {}),
  });
  const send = (request: Request) =>
    new Promise<Reply>((resolve) => {
      const { headers, payload } = encode(request);
      if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
      const sentAt = Date.now();
      let started = performance.now();
      const timeoutMs = request.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (reply: Reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(reply);
      };
      try {
        const req = http.request(
          { host: url.hostname, port: url.port || 80, path: `${prefix}${request.path}`, method: request.method, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              finish({
                status: res.statusCode ?? 0,
                headers: flatHeaders(res.headers),
                body: decode(Buffer.concat(chunks).toString('utf8'), res.headers['content-type']),
                ms: performance.now() - started,
                sentAt,
              }),
            );
            res.on('error', (error) => finish(failed(error, started, sentAt)));
            res.on('close', () => finish(failed(new Error('the answer was cut off'), started, sentAt)));
          },
        );
        timer = setTimeout(() => req.destroy(timeoutError(timeoutMs)), timeoutMs);
        req.once('socket', () => {
          started = performance.now();
        });
        req.on('error', (error) => finish(failed(error, started, sentAt)));
        req.end(payload);
      } catch (error) {
        finish(failed(error, started, sentAt)); // a header value node:http refuses to send
      }
    });
  return { send, close: () => agent.destroy() };
}

/** One request on a connection of its own, closed afterwards: readiness probes, metric scrapes. */
export async function requestOnce(baseUrl: string, request: Request): Promise<Reply> {
  const transport = httpTransport(baseUrl, { keepAlive: false });
  try {
    return await transport.send(request);
  } finally {
    transport.close();
  }
}

/** A reply other than the one expected, as an error. */
export class HttpError extends Error {
  constructor(
    readonly what: string,
    readonly reply: Reply,
  ) {
    const why = reply.status === 0 ? reply.error : `${reply.body?.code ?? ''} ${reply.body?.detail ?? reply.body?.title ?? JSON.stringify(reply.body) ?? ''}`;
    super(`${what} → ${reply.status} ${why}`.trim());
  }

  get status(): number {
    return this.reply.status;
  }
}

/** The body of a reply with status `status` (any 2xx when left out); any other reply throws an HttpError. */
export function bodyOf<T = any>(reply: Reply, what: string, status?: number): T {
  const ok = status === undefined ? reply.status >= 200 && reply.status < 300 : reply.status === status;
  if (!ok) throw new HttpError(what, reply);
  return reply.body as T;
}
