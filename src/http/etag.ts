import { Type } from '@sinclair/typebox';

export const IfNoneMatchHeader = Type.Object({
  'if-none-match': Type.Optional(Type.String({ description: 'An ETag from an earlier answer: 304 Not Modified while it still matches.' })),
});

/**
 * Whether an `If-None-Match` header names this ETag (RFC 9110 §13.1.2): a list of tags, each maybe weak
 * (`W/"…"`, compared weakly as the rule says), or `*`.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
