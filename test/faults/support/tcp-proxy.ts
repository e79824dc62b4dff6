import net from 'node:net';
import { freePort } from '../../../tools/net.js';

/**
 * A loopback TCP proxy for breaking a connection on purpose, between the service and PostgreSQL (or a
 * client and the service). It only ever touches its own sockets: the server behind it is never
 * stopped, restarted or flushed.
 *
 * - `down()`  every proxied connection is destroyed and new ones are refused (ECONNREFUSED), as if the
 *             server had crashed; `up()` accepts again, as if it had restarted.
 * - `cut()`   every proxied connection is destroyed, new ones are still accepted (a network blip).
 * - `blackhole()` nothing is forwarded any more and nothing is closed (a partition, a frozen server);
 *             `heal()` ends it, closing what was stuck.
 * - `dropResponses` the request reaches the server, the answer never reaches the client: its
 *             connection is reset instead (a response lost to a timeout or a dropped link).
 */
export class TcpProxy {
  #server: net.Server | undefined;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  #blackholed = false;
  dropResponses = false;
  /** Connections accepted since start, for tests that want to see the pool reconnect. */
  accepted = 0;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(port || (await freePort()), target);
    await proxy.up();
    return proxy;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async up(): Promise<void> {
    if (this.#server) return;
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  cut(): void {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
  }

  blackhole(): void {
    this.#blackholed = true;
  }

  heal(): void {
    this.#blackholed = false;
    this.cut();
  }

  async close(): Promise<void> {
    await this.down();
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    if (this.#blackholed) {
      // Accepted and then ignored: the peer waits, as it would for a host that has gone silent.
      const pair = { client, upstream: new net.Socket() };
      this.#pairs.add(pair);
      client.on('error', () => undefined);
      client.on('close', () => this.#pairs.delete(pair));
      return;
    }
    const upstream = net.connect(this.target);
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk) => {
      if (!this.#blackholed) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (this.#blackholed) return;
      if (this.dropResponses) {
        client.resetAndDestroy();
        return;
      }
      client.write(chunk);
    });
  }
}
