import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny round-robin HTTP load balancer for local multi-instance runs. Bodies are piped both ways,
 * so Server-Sent Events pass through chunk by chunk, unbuffered. Each response carries
 * `x-served-by: <instance index>` so clients can see where they landed.
 */
export interface Balancer {
  url: string;
  /** Requests sent to each upstream, by index. */
  served: number[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);
const withoutHopByHop = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));

export async function startBalancer(upstreams: string[], port = 0, host = '127.0.0.1'): Promise<Balancer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const served = upstreams.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    const index = next++ % upstreams.length;
    served[index]!++;
    const target = new URL(req.url ?? '/', upstreams[index]);
    const upstream = http.request(
      target,
      { method: req.method, agent, headers: { ...withoutHopByHop(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '' } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...withoutHopByHop(answer.headers), 'x-served-by': String(index) });
        res.flushHeaders();
        answer.on('error', () => res.destroy());
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unavailable');
      else res.destroy();
    });
    // A client that goes away (a closed event stream) closes its upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
