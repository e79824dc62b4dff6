import net from 'node:net';
import { waitFor } from './async.js';
import { freePort } from './net.js';
import { spawnChild, type Child } from './processes.js';

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * A private redis-server on its own port: no persistence, loopback only. Killing it loses everything,
 * exactly like a Redis restart without persistence (the worst case the design must survive).
 */
export class PrivateRedis {
  #child: Child | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    this.#child = spawnChild(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'],
    );
    await waitFor(`redis-server on ${this.port}`, async () => ((await portAnswers(this.port)) ? true : undefined), 10_000, 50);
  }

  /** kill -9: every key, script and subscription is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    await child?.kill('SIGKILL');
  }
}
