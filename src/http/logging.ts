import { parse, stringify } from 'node:querystring';
import pino, { type DestinationStream, type Logger } from 'pino';

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
