/**
 * The process the browser suite starts: it just loads the real entry point (src/main.ts, or
 * E2E_SERVER_ENTRY, e.g. a compiled build). Having its own file gives these processes their own
 * command line, so they are easy to tell apart from other servers running on the same machine.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = process.env.E2E_SERVER_ENTRY
  ? pathToFileURL(path.resolve(process.env.E2E_SERVER_ENTRY)).href
  : new URL('../../../src/main.ts', import.meta.url).href;

await import(entry);
