/** Thousands of open event streams over several instances, and what one move of the line costs them. */
import { fork, type ChildProcess } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface StreamState {
  position: number | null;
  status: string;
  changedAt: number;
}

/** A lean Server-Sent Events reader: one socket, the last view's place and status, when it last changed. */
export function openStream(url: string, state: StreamState, now: () => number = () => performance.now()): { close(): void; opened: Promise<void> } {
  let response: IncomingMessage | undefined;
  const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } });
  const opened = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      response = res;
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      resolve();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer.slice(0, end).split('\n').find((line) => line.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const view = JSON.parse(data.slice(6)) as { position?: number | null; status: string };
          if (view.position !== state.position || view.status !== state.status) {
            state.position = view.position ?? null;
            state.status = view.status;
            state.changedAt = now();
          }
        }
      });
    });
    req.on('error', reject);
  });
  req.end();
  return {
    opened,
    close: () => {
      response?.destroy();
      req.destroy();
    },
  };
}

/**
 * What Redis has served so far (INFO commandstats): `commands` counts every command, those a script runs
 * included; `scripts` counts script calls (EVALSHA/EVAL), each one round trip however much it does.
 */
export async function redisCalls(info: () => Promise<string>): Promise<{ commands: number; scripts: number }> {
  let commands = 0;
  let scripts = 0;
  for (const [, name, calls] of (await info()).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    commands += Number(calls);
    if (name === 'evalsha' || name === 'eval') scripts += Number(calls);
  }
  return { commands, scripts };
}

/** Streams held by child processes (bench/line/holder.ts), `perHolder` at most each. */
export class StreamHolders {
  readonly #holders: ChildProcess[] = [];
  readonly #snapshots = new Map<ChildProcess, StreamState[]>();

  static async open(urls: string[], perHolder: number): Promise<StreamHolders> {
    const holders = new StreamHolders();
    const shares = Array.from({ length: Math.ceil(urls.length / perHolder) }, (_, i) => urls.slice(i * perHolder, (i + 1) * perHolder));
    await Promise.all(shares.map((share) => holders.#start(share)));
    return holders;
  }

  async #start(urls: string[]): Promise<void> {
    const child = fork(fileURLToPath(new URL('./holder.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
    this.#holders.push(child);
    child.on('message', (message: { snapshot?: StreamState[] }) => {
      if (message.snapshot) this.#snapshots.set(child, message.snapshot);
    });
    await new Promise<void>((resolve) => {
      child.on('message', (message: { opened?: number }) => message.opened !== undefined && resolve());
      child.send({ open: urls });
    });
  }

  /** Every stream's state, in the order the urls were given. */
  async snapshot(): Promise<StreamState[]> {
    const asked = this.#holders.map(
      (child) => new Promise<StreamState[]>((resolve) => child.once('message', (message: { snapshot?: StreamState[] }) => resolve(message.snapshot ?? []))),
    );
    for (const child of this.#holders) child.send({ snapshot: true });
    return (await Promise.all(asked)).flat();
  }

  close(): void {
    for (const child of this.#holders) child.send({ close: true });
  }
}
