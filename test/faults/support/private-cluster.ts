import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from '../../../tools/async.js';
import { spawnChild, type Child } from '../../../tools/processes.js';

const run = promisify(execFile);

/** A cluster node listens on its port and on port + 10000 (the cluster bus): both must be free. */
async function freeNodePort(taken: Set<number>): Promise<number> {
  const listenable = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await listenable(port)) && (await listenable(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
}

export interface SlotOwners {
  master: number;
  replicas: number[];
}

/**
 * A Redis Cluster of this test's own (3 masters, 1 replica each) on free loopback ports, in a temporary
 * directory, without persistence: never the shared cluster on 7001-7006. `nodeTimeoutMs` is how long a
 * silent master takes to be declared failed; its replica is promoted shortly after.
 */
export class PrivateCluster {
  readonly #children = new Map<number, Child>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  static async start({ nodeTimeoutMs = 1_500 } = {}): Promise<PrivateCluster> {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freeNodePort(taken));
    const cluster = new PrivateCluster(ports, await mkdtemp(path.join(os.tmpdir(), 'private-cluster-')), nodeTimeoutMs);
    try {
      for (const port of ports) cluster.#startNode(port);
      for (const port of ports) await waitFor(`cluster node ${port}`, async () => ((await cluster.cli(port, 'PING')) === 'PONG' ? true : undefined), 10_000, 50);
      await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
      await waitFor('the cluster to be healthy, every replica in sync', () => cluster.#healthy(), 30_000, 100);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for the service: every node as a seed, so any survivor can tell the topology. */
  get seeds(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  #startNode(port: number): void {
    const settings = {
      port: String(port),
      bind: '127.0.0.1',
      'cluster-enabled': 'yes',
      'cluster-config-file': `nodes-${port}.conf`,
      'cluster-node-timeout': String(this.nodeTimeoutMs),
      // While one shard has no master the others keep serving their slots (docs/scaling.md).
      'cluster-require-full-coverage': 'no',
      // A replica syncs at once and reports its offset within a second (defaults: 5 s and 10 s), so it
      // is listed, and can be promoted, a few seconds after the cluster is created.
      'repl-diskless-sync-delay': '0',
      'repl-ping-replica-period': '1',
      dir: this.dir,
      save: '',
      appendonly: 'no',
      daemonize: 'no',
    };
    this.#children.set(port, spawnChild('redis-server', Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value])));
  }

  /** One redis-cli command on one node; its output, trimmed, or '' if the node does not answer. */
  async cli(port: number, ...args: string[]): Promise<string> {
    try {
      return (await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 })).stdout.trim();
    } catch {
      return '';
    }
  }

  /** Every node says ok and sees a replica, in sync, for every slot range. */
  async #healthy(): Promise<true | undefined> {
    for (const port of this.#live()) {
      if (!(await this.cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return undefined;
      const replication = await this.cli(port, 'INFO', 'replication');
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return undefined;
      if ((await this.#slots(port)).some((range) => range.length < 4)) return undefined;
    }
    return true;
  }

  async #slots(port: number) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    try {
      await client.connect();
      return await client.cluster('SLOTS');
    } finally {
      client.disconnect();
    }
  }

  #live(): number[] {
    return this.ports.filter((port) => this.#children.get(port)?.running);
  }

  /** Who serves `key`'s slot, as a live node sees it now. */
  async ownersOf(key: string): Promise<SlotOwners> {
    const port = this.#live()[0]!;
    const slot = Number(await this.cli(port, 'CLUSTER', 'KEYSLOT', key));
    const range = (await this.#slots(port)).find(([from, to]) => from <= slot && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { master: Number(master![1]), replicas: replicas.map((replica) => Number(replica[1])) };
  }

  /**
   * Waits until every write made so far on `master` has reached a replica: WAIT counts the calling
   * connection's writes only, so it writes first, after everyone else's.
   */
  async replicated(master: number, hashTag: string): Promise<void> {
    const client = new Redis({ port: master, host: '127.0.0.1', lazyConnect: true });
    try {
      await client.connect();
      await client.set(`checkpoint:{${hashTag}}`, String(Date.now()), 'PX', 60_000);
      const acked = await client.wait(1, 5_000);
      if (acked < 1) throw new Error(`no replica of ${master} acknowledged in 5 s`);
    } finally {
      client.disconnect();
    }
  }

  /**
   * From now on nothing `master` accepts reaches `replica`, as when a replica lags under load and its
   * master dies: the replica is frozen (SIGSTOP), the master fills its replication stream with a 64 MB
   * write (made by a script, so only its effect crosses the wire) that no socket buffer holds, and drops
   * the link once 1 MB is left waiting (the filler's key has `hashTag`, a slot of `master`). `thaw` wakes
   * the replica; the master must be dead by then.
   */
  async cutOff(master: number, replica: number, hashTag: string): Promise<void> {
    this.#children.get(replica)!.signal('SIGSTOP');
    const client = new Redis({ port: master, host: '127.0.0.1', lazyConnect: true });
    try {
      await client.connect();
      await client.config('SET', 'client-output-buffer-limit', 'replica 1mb 1mb 0');
      await client.eval("redis.call('SET', KEYS[1], string.rep('x', tonumber(ARGV[1]))) return 1", 1, `filler:{${hashTag}}`, 64 * 1024 * 1024);
      await waitFor(
        `${master} to drop its replica`,
        async () => ((await client.info('replication')).includes('connected_slaves:0') ? true : undefined),
        5_000,
        20,
      );
    } finally {
      client.disconnect();
    }
  }

  thaw(port: number): void {
    this.#children.get(port)!.signal('SIGCONT');
  }

  /** kill -9: whatever the node had not replicated is gone. */
  async kill(port: number): Promise<void> {
    await this.#children.get(port)?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    for (const child of this.#children.values()) {
      child.signal('SIGCONT');
      await child.kill('SIGKILL');
    }
    this.#children.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}
