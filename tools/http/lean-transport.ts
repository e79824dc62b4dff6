import net from 'node:net';
import { DEFAULT_TIMEOUT_MS, type Reply, type Request, type Transport } from './transport.js';

/**
 * HTTP/1.1 on a fixed set of keep-alive sockets, for a load generator that shares the machine with the
 * server it measures: one request at a time per socket, as node:http's Agent does, but with none of its
 * per-request objects (ClientRequest, IncomingMessage and their streams, a timer each), so the
 * generator's own CPU takes less from the server. Replies are the same as httpTransport's: status,
 * lower-case headers, the body parsed when it is JSON, and `ms` from the moment the request had a
 * socket to the end of its answer. Plain http:// only.
 */

interface Pending {
  head: string;
  payload: string | undefined;
  method: string;
  sentAt: number;
  timeoutMs: number;
  deadline: number;
  started: number;
  resolve: (reply: Reply) => void;
}

interface Connection {
  socket: net.Socket;
  current: Pending | undefined;
  /** Bytes of the current answer received so far. */
  buffered: Buffer | undefined;
}

const CRLF2 = Buffer.from('\r\n\r\n');
/** How often requests past their deadline are looked for: a deadline is seconds, so this is precise enough. */
const SWEEP_MS = 250;


function decode(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  if (!contentType?.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The body of a chunked answer once all of it is in `data` (from `from`), else undefined. */
function dechunk(data: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    const start = lineEnd + 2;
    if (size === 0) {
      // No trailers are sent by the servers measured here: the last chunk ends with one empty line.
      if (data.length < start + 2) return undefined;
      return { body: Buffer.concat(parts), end: start + 2 };
    }
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}

export function leanHttpTransport(baseUrl: string, options: { connections: number; timeoutMs?: number }): Transport {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:') throw new Error(`the lean transport speaks plain HTTP only, not ${url.protocol}`);
  const host = url.hostname;
  const port = Number(url.port || 80);
  const prefix = url.pathname.replace(/\/$/, '');
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const waiting: Pending[] = [];
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  let closed = false;

  const failed = (pending: Pending, error: string): Reply => ({
    status: 0,
    headers: {},
    body: undefined,
    ms: pending.started ? performance.now() - pending.started : 0,
    sentAt: pending.sentAt,
    error,
  });

  const drop = (connection: Connection, error: string) => {
    if (!all.delete(connection)) return;
    const index = idle.indexOf(connection);
    if (index !== -1) idle.splice(index, 1);
    connection.socket.destroy();
    const { current } = connection;
    connection.current = undefined;
    if (current) current.resolve(failed(current, error));
    dispatch();
  };

  /** One complete answer at the start of the connection's bytes, or undefined while more must come. */
  const answerIn = (connection: Connection, data: Buffer, ended: boolean): { reply: Reply; close: boolean } | undefined => {
    const pending = connection.current!;
    const headEnd = data.indexOf(CRLF2);
    if (headEnd === -1) return undefined;
    const lines = data.toString('latin1', 0, headEnd).split('\r\n');
    const status = Number(lines[0]!.split(' ', 2)[1]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = headEnd + 4;
    let body: Buffer;
    if (pending.method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.includes('chunked')) {
      const chunked = dechunk(data, bodyStart);
      if (!chunked) return undefined;
      body = chunked.body;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (data.length < bodyStart + length) return undefined;
      body = data.subarray(bodyStart, bodyStart + length);
    } else {
      // Neither a length nor chunks: the answer ends with the connection.
      if (!ended) return undefined;
      body = data.subarray(bodyStart);
    }
    const reply = { status, headers, body: decode(body, headers['content-type']), ms: performance.now() - pending.started, sentAt: pending.sentAt };
    return { reply, close: ended || /close/i.test(headers.connection ?? '') };
  };

  const onData = (connection: Connection, chunk: Buffer, ended = false) => {
    const data = connection.buffered ? Buffer.concat([connection.buffered, chunk]) : chunk;
    if (!connection.current) return drop(connection, 'Error: bytes from the server with no request in flight');
    let answer;
    try {
      answer = answerIn(connection, data, ended);
    } catch (error) {
      return drop(connection, `Error: ${(error as Error).message}`);
    }
    if (!answer) {
      connection.buffered = data;
      if (ended) drop(connection, 'Error: the answer was cut off');
      return;
    }
    const pending = connection.current;
    connection.current = undefined;
    connection.buffered = undefined;
    pending.resolve(answer.reply);
    if (answer.close || (closed && waiting.length === 0)) drop(connection, 'Error: closed');
    else {
      idle.push(connection);
      dispatch();
    }
  };

  const connect = (): Connection => {
    const socket = net.connect({ host, port, noDelay: true });
    const connection: Connection = { socket, current: undefined, buffered: undefined };
    all.add(connection);
    socket.on('data', (chunk: Buffer) => onData(connection, chunk));
    socket.on('end', () => (connection.current ? onData(connection, Buffer.alloc(0), true) : drop(connection, 'Error: closed')));
    socket.on('error', (error: NodeJS.ErrnoException) => drop(connection, `${error.name}: ${error.code ?? error.message}`));
    socket.on('close', () => drop(connection, 'Error: the answer was cut off'));
    return connection;
  };

  function dispatch(): void {
    while (waiting.length > 0) {
      const connection = idle.pop() ?? (all.size < options.connections ? connect() : undefined);
      if (!connection) return;
      const pending = waiting.shift()!;
      connection.current = pending;
      pending.started = performance.now();
      connection.socket.write(pending.payload === undefined ? pending.head : pending.head + pending.payload);
    }
  }

  const sweeper = setInterval(() => {
    const now = performance.now();
    for (let i = waiting.length - 1; i >= 0; i--) {
      const pending = waiting[i]!;
      if (pending.deadline <= now) {
        waiting.splice(i, 1);
        pending.resolve(failed(pending, `TimeoutError: no answer within ${pending.timeoutMs} ms`));
      }
    }
    for (const connection of all) {
      const { current } = connection;
      if (current && current.deadline <= now) drop(connection, `TimeoutError: no answer within ${current.timeoutMs} ms`);
    }
    if (closed && all.size === 0 && waiting.length === 0) clearInterval(sweeper);
  }, SWEEP_MS);
  sweeper.unref();

  return {
    send(request: Request) {
      return new Promise<Reply>((resolve) => {
        const headers: Record<string, string> = { host: `${host}:${port}`, ...request.headers };
        let payload = request.rawBody;
        if (payload === undefined && request.body !== undefined) {
          payload = JSON.stringify(request.body);
          headers['content-type'] ??= 'application/json';
        }
        if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
        let head = `${request.method} ${prefix}${request.path} HTTP/1.1\r\n`;
        for (const [name, value] of Object.entries(headers)) {
          if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
            resolve({ status: 0, headers: {}, body: undefined, ms: 0, sentAt: Date.now(), error: `TypeError: invalid header ${name}` });
            return;
          }
          head += `${name}: ${value}\r\n`;
        }
        head += '\r\n';
        const timeoutMs = request.timeoutMs ?? defaultTimeout;
        const pending: Pending = {
          head,
          payload,
          method: request.method,
          sentAt: Date.now(),
          timeoutMs,
          deadline: performance.now() + timeoutMs,
          started: 0,
          resolve,
        };
        if (closed) return resolve(failed(pending, 'Error: the transport is closed'));
        waiting.push(pending);
        dispatch();
      });
    },
    /** Closes idle connections; requests already sent still get their answers, later ones are refused. */
    close() {
      closed = true;
      for (const connection of [...idle]) drop(connection, 'Error: closed');
    },
  };
}
