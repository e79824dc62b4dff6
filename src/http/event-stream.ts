import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';

/** A Server-Sent Events response, once its headers are out. */
export interface EventStream {
  write(frame: string | Buffer): void;
  heartbeat(): void;
  /** Ends the response, after a last frame if one is given. */
  end(lastFrame?: string | Buffer): void;
}

/**
 * Takes the reply over for Server-Sent Events: undefined when the client has already gone. `closing`
 * (the hub is shutting down and will end the stream at once) closes the connection with it, since the
 * server closed its idle connections before this one became idle and would wait for it.
 */
export function openEventStream(reply: FastifyReply, closing: boolean): EventStream | undefined {
  reply.hijack();
  const raw = reply.raw;
  if (raw.destroyed) return undefined;
  raw.writeHead(200, {
    // Headers set by hooks so far (security headers) would be lost with the hijack otherwise.
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: closing ? 'close' : 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 2000\n\n');
  return {
    write: (frame) => void raw.write(frame),
    heartbeat: () => void raw.write(': heartbeat\n\n'),
    end: (lastFrame) => void (lastFrame === undefined ? raw.end() : raw.end(lastFrame)),
  };
}
