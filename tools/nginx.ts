/**
 * nginx from the distribution in front of local instances, configured by the deployment example
 * itself: deploy/nginx/ticketing.conf, rendered with the instances' addresses and a free port, inside
 * a minimal main context of our own, in a temporary prefix. The system nginx and its config are
 * never used.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './async.js';
import { requestOnce } from './http/transport.js';
import { freePort } from './net.js';
import { repoRoot, spawnChild, type Child } from './processes.js';

export const NGINX_TEMPLATE = join(repoRoot, 'deploy/nginx/ticketing.conf');

/** The nginx binary: $NGINX, Debian's /usr/sbin/nginx, or undefined when neither exists. */
export function nginxBinary(): string | undefined {
  const candidates = [process.env.NGINX, '/usr/sbin/nginx', '/usr/local/sbin/nginx'].filter((path): path is string => !!path);
  return candidates.find((path) => existsSync(path));
}

export interface RenderOptions {
  /** host:port of each instance. */
  upstreams: string[];
  /** What the server listens on, e.g. 127.0.0.1:3100. */
  listen: string;
  /** Replaces /var/log/nginx. */
  logDir: string;
}

const LINE = (directive: string) => new RegExp(`^([ \\t]*)${directive}[ \\t]+([^;\\s]+)([^;]*);[^\\n]*\\n`, 'gm');

/** Replaces the first line `pattern` matches and drops the others; throws if none does, so the template cannot drift silently. */
function keepFirst(text: string, pattern: RegExp, what: string, replacement: (groups: string[]) => string): string {
  let count = 0;
  const out = text.replace(pattern, (...args: string[]) => (count++ === 0 ? replacement(args.slice(0, -2)) : ''));
  if (count === 0) throw new Error(`nginx template: no ${what} found; tools/nginx.ts and deploy/nginx/ticketing.conf disagree`);
  return out;
}

/**
 * The deployment example with only what differs between a deployment and a test run swapped: the
 * upstream's servers (keeping the parameters of the first), the listen address and the log
 * directory. Everything else, every setting the tests depend on, is the file as committed.
 */
export function renderConfig(template: string, { upstreams, listen, logDir }: RenderOptions): string {
  if (upstreams.length === 0) throw new Error('nginx needs at least one upstream');
  const block = /^upstream[ \t]+\w+[ \t]*\{\n[\s\S]*?^\}/m.exec(template);
  if (!block) throw new Error('nginx template: no upstream block found');
  const servers = keepFirst(block[0], LINE('server'), 'upstream server line', ([, indent, , params]) =>
    upstreams.map((address) => `${indent}server ${address}${params};\n`).join(''),
  );
  let rendered = template.replace(block[0], () => servers);
  rendered = keepFirst(rendered, LINE('listen'), 'listen line', ([, indent]) => `${indent}listen ${listen};\n`);
  if (!rendered.includes('/var/log/nginx/')) throw new Error('nginx template: no log under /var/log/nginx/ found');
  return rendered.replaceAll('/var/log/nginx/', `${logDir}/`);
}

/** The main context around the rendered file: only what a test run needs to differ from Debian's nginx.conf. */
const mainConfig = (prefix: string) => `# Written by tools/nginx.ts around deploy/nginx/ticketing.conf (rendered next to this file).
# In the foreground, so the test owns the master process and sees it exit.
daemon off;
# Two cores shared with the instances and other suites; one worker is plenty for loopback tests.
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
# A graceful stop (SIGQUIT) waits for open responses, and event streams stay open.
worker_shutdown_timeout 1s;
events {
    worker_connections 2048;
}
http {
    # Debian's defaults are under /var/lib/nginx, which belongs to the system nginx.
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    include ${prefix}/ticketing.conf;
}
`;

export interface NginxOptions {
  /** host:port of each instance. */
  upstreams: string[];
  /** Default: a free one. */
  port?: number;
  host?: string;
  /** Ready once this answers 200 through nginx, which proves an instance is reachable too (default /health). */
  readyPath?: string;
  timeoutMs?: number;
  /** Default deploy/nginx/ticketing.conf. */
  template?: string;
}

export interface Nginx {
  url: string;
  port: number;
  /** The temporary prefix: nginx.conf, ticketing.conf, logs/. Removed by stop(). */
  prefix: string;
  accessLog: string;
  child: Child;
  /** nginx's error log and its own output, for failure reports. */
  output(): string;
  /** Requests answered by each upstream (host:port), from the access log. */
  requestsPerUpstream(): Map<string, number>;
  /** SIGQUIT (finish open requests), then SIGTERM, then SIGKILL of the master and its workers; removes the prefix. */
  stop(): Promise<void>;
}

/** Worker pids of a master, so none is left behind if the master has to be killed. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killTree(pid: number) {
  for (const target of [...childPids(pid), pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const running = new Set<Nginx>();
// Before tools/processes.ts kills its children at exit: killing the master alone would orphan the
// workers, which keep the port.
process.prependOnceListener('exit', () => {
  for (const nginx of running) {
    if (nginx.child.running) killTree(nginx.child.pid);
    rmSync(nginx.prefix, { recursive: true, force: true });
  }
});

const readOr = (path: string, fallback = '') => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
};

/** Starts nginx in front of `upstreams` and waits until it answers through them. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx not found (set NGINX, or apt-get install -y nginx; .ci/run installs it)');
  const host = options.host ?? '127.0.0.1';
  const template = readFileSync(options.template ?? NGINX_TEMPLATE, 'utf8');
  const prefix = mkdtempSync(join(tmpdir(), 'ticketing-nginx-'));
  // Workers run as an unprivileged user when the tests run as root, and may spill large responses to tmp/.
  chmodSync(prefix, 0o755);
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir));
  writeFileSync(join(prefix, 'nginx.conf'), mainConfig(prefix));
  const errorLog = join(prefix, 'logs/error.log');

  // A free port can be taken between choosing it and nginx binding it; then choose again.
  for (let attempt = 1; ; attempt++) {
    writeFileSync(errorLog, '');
    const port = options.port ?? (await freePort());
    writeFileSync(join(prefix, 'ticketing.conf'), renderConfig(template, { upstreams: options.upstreams, listen: `${host}:${port}`, logDir: join(prefix, 'logs') }));
    const child = spawnChild(binary, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', errorLog]);
    const url = `http://${host}:${port}`;
    const accessLog = join(prefix, 'logs/ticketing.access.log');
    const output = () => `${readOr(errorLog)}${child.output()}`;
    let stopping: Promise<void> | undefined;
    const nginx: Nginx = {
      url,
      port,
      prefix,
      accessLog,
      child,
      output,
      requestsPerUpstream() {
        const counts = new Map<string, number>();
        for (const [, addresses] of readOr(accessLog).matchAll(/ upstream="([^"]*)"/g)) {
          // A request retried on another instance lists both, "a, b"; the last one answered.
          const last = addresses!.split(/, | : /).at(-1)!;
          if (last !== '-') counts.set(last, (counts.get(last) ?? 0) + 1);
        }
        return counts;
      },
      stop() {
        stopping ??= (async () => {
          const exitedWithin = (ms: number) => Promise.race([child.exited.then(() => true), sleep(ms).then(() => false)]);
          if (child.running) child.signal('SIGQUIT');
          if (!(await exitedWithin(5_000)) && child.running) child.signal('SIGTERM');
          if (!(await exitedWithin(3_000)) && child.running) {
            killTree(child.pid);
            await child.exited;
          }
          running.delete(nginx);
          rmSync(prefix, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
    running.add(nginx);
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      if (!child.running) {
        await child.exited;
        running.delete(nginx);
        const why = output();
        if (/Address already in use/.test(why) && options.port === undefined && attempt < 3) break;
        rmSync(prefix, { recursive: true, force: true });
        throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before it answered on ${url}:\n${why}`);
      }
      // nginx writes its pid file only once it holds the port: until then, whatever answers is not it.
      const listening = readOr(join(prefix, 'nginx.pid')).trim() === String(child.pid);
      const reply = listening ? await requestOnce(url, { method: 'GET', path: options.readyPath ?? '/health', timeoutMs: 2_000 }) : undefined;
      if (reply?.status === 200) return nginx;
      if (Date.now() > deadline) {
        await nginx.stop();
        const last = reply ? `${reply.status} ${reply.error ?? ''}` : 'no pid file yet';
        throw new Error(`nginx on ${url} did not answer 200 on ${options.readyPath ?? '/health'} (last: ${last}):\n${output()}`);
      }
      await sleep(50);
    }
  }
}
