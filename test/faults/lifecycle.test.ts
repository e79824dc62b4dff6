import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../tools/async.js';
import { ApiClient } from '../../tools/http/api-client.js';
import { requestOnce } from '../../tools/http/transport.js';
import { freePort } from '../../tools/net.js';
import { spawnChild, type Child } from '../../tools/processes.js';

const children: Child[] = [];

/** The service with only the settings given (no port or host of ours), its output kept. */
function startService(env: Record<string, string>) {
  const child = spawnChild(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env } });
  children.push(child);
  return { child, output: () => child.output() };
}

async function waitForHealth(base: string, deadlineMs = 30_000) {
  const healthy = async () => ((await requestOnce(base, { method: 'GET', path: '/health', timeoutMs: 2_000 })).status === 200 ? true : undefined);
  await waitFor('the service to be healthy', healthy, deadlineMs, 200);
}

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
});

describe('process lifecycle', () => {
  it('refuses to start on bad configuration, naming every bad setting', async () => {
    const { child, output } = startService({ PORT: 'eighty', HOLD_TTL_SECONDS: '0', DATABASE_URL: 'mysql://nope' });
    await child.exited;
    const code = child.exitCode;
    expect(code).toBe(1);
    expect(output()).toMatch(/Invalid configuration/);
    for (const name of ['PORT', 'HOLD_TTL_SECONDS', 'DATABASE_URL']) expect(output()).toContain(name);
  });

  it('on SIGTERM closes the server, ends open event streams, closes the pools and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = startService({ PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: 'lifecycle-admin-lifecycle-admin-0123' });
    await waitForHealth(base);

    const api = ApiClient.http(base);
    const events = (await api.request('GET', '/events')).body as { id: string }[];
    const user = await api.createUser('late');
    const joined = (await api.join(user, events[0]!.id)).body as { token: string };
    api.close();
    const stream = await fetch(`${base}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(joined.token)}`);
    const streamEnded = (async () => {
      for await (const _chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
        // drain until the server ends the stream
      }
      return true;
    })();

    child.signal('SIGTERM');
    await child.exited;
    const code = child.exitCode;
    expect(code).toBe(0);
    expect(await streamEnded).toBe(true);
    expect(output()).toMatch(/shutting down/);
    expect(output()).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
