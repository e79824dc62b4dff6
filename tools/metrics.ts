import { requestOnce } from './http/transport.js';

const labelsOf = (text: string | undefined): Record<string, string> =>
  Object.fromEntries([...(text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));

/**
 * Reads one unlabelled or summed sample from a Prometheus text page; with `labels`, only the samples
 * carrying every one of them (NaN when none does).
 */
export function metric(page: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of page.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (match?.[1] !== name) continue;
    const carried = labelsOf(match[2]);
    if (!Object.entries(labels).every(([label, value]) => carried[label] === value)) continue;
    total += Number(match[3]);
    found = true;
  }
  return found ? total : Number.NaN;
}

/** The /metrics page of a service. */
export async function scrape(baseUrl: string): Promise<string> {
  const reply = await requestOnce(baseUrl, { method: 'GET', path: '/metrics', timeoutMs: 10_000 });
  if (reply.status === 0) throw new Error(`GET ${baseUrl}/metrics: ${reply.error}`);
  return String(reply.body ?? '');
}
