import { parse, stringify } from 'node:querystring';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';

/** Query parameters and headers that carry credentials: never written to a log. */
const SECRET_PARAMS = new Set(['token']);
const SECRET_HEADERS = ['authorization', 'x-queue-token', 'x-admin-key', 'idempotency-key', 'cookie'];

const REDACTED = '[redacted]';

/**
 * The URL as a log may show it. The query is decoded first and matched by name, so `?%74oken=` or
 * `?Token=` cannot slip a credential past a pattern written against the raw text.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const query = parse(url.slice(mark + 1));
  let redacted = false;
  for (const name of Object.keys(query)) {
    if (SECRET_PARAMS.has(name.toLowerCase())) {
      query[name] = REDACTED;
      redacted = true;
    }
  }
  return redacted ? `${url.slice(0, mark)}?${stringify(query)}` : url;
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
}

/** The process logger: request lines carry method, redacted URL and client address; credentials never. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: {
        req: (request: LoggedRequest) => ({ method: request.method, url: redactUrl(request.url), remoteAddress: request.ip }),
      },
      // Belt and braces for code that logs headers itself.
      redact: { paths: SECRET_HEADERS.flatMap((name) => [`headers["${name}"]`, `req.headers["${name}"]`]), censor: REDACTED },
    },
    destination,
  );
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, made only when the request logs something. Fastify gives every request a child of
 * the process logger carrying its id, and pino makes one by serializing the bindings and setting the
 * child's own log methods: 3.4 µs of a refused hold's 125 in a profile of the bench's hold storm, though
 * 0.4 µs in a loop on its own. At the usual level (warn) a request that goes well logs nothing, so most
 * of those children were never used. Each call asks pino whether its level is on, and the first call
 * that writes makes the real child.
 */
class RequestLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  #log(level: Level, args: unknown[]): void {
    if (!(this.#child ?? this.parent).isLevelEnabled(level)) return;
    (this.#real()[level] as (...line: unknown[]) => void)(...args);
  }

  #real(): Logger {
    return (this.#child ??= this.parent.child(this.bindings));
  }
}

/**
 * Fastify's `childLoggerFactory`: a request's logger, made lazily unless its route sets logger options.
 * Fastify types the parent as its base logger; here it is the pino logger buildApp is given (AppOptions)
 * or a child Fastify made of it, which is what lets the level be asked of pino itself.
 */
export const requestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (parent, bindings, options) =>
  Object.keys(options).length > 0
    ? parent.child(bindings, options)
    : (new RequestLogger(parent as Logger, bindings) as unknown as FastifyBaseLogger);
