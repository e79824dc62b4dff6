import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/net.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];

function startService(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitForHealth(base: string, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('service did not become healthy');
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('process lifecycle', () => {
  it('refuses to start on bad configuration, naming every bad setting', async () => {
    const { child, output } = startService({ PORT: 'eighty', HOLD_TTL_SECONDS: '0', DATABASE_URL: 'mysql://nope' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output()).toMatch(/Invalid configuration/);
    for (const name of ['PORT', 'HOLD_TTL_SECONDS', 'DATABASE_URL']) expect(output()).toContain(name);
  });

  it('on SIGTERM closes the server, ends open event streams, closes the pools and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = startService({ PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: 'lifecycle-admin-lifecycle-admin-0123' });
    await waitForHealth(base);

    const events = (await (await fetch(`${base}/api/v1/events`)).json()) as { id: string }[];
    const user = (await (
      await fetch(`${base}/api/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userName":"late"}' })
    ).json()) as { accessToken: string };
    const joined = (await (
      await fetch(`${base}/api/v1/queue/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
        body: JSON.stringify({ eventId: events[0]!.id }),
      })
    ).json()) as { token: string };
    const stream = await fetch(`${base}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(joined.token)}`);
    const streamEnded = (async () => {
      for await (const _chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
        // drain until the server ends the stream
      }
      return true;
    })();

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(await streamEnded).toBe(true);
    expect(output()).toMatch(/shutting down/);
    expect(output()).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
