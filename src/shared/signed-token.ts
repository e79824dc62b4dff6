import { createHmac } from 'node:crypto';

/**
 * Compact HMAC-SHA256 tokens: `<base64url(json)>.<base64url(mac)>`. Each token names its purpose (`typ`)
 * and the MAC covers it, so an access token can never be replayed as a queue token or the reverse.
 */
export interface TokenClaims {
  typ: string;
  /** Issued at / expires at, in epoch milliseconds. */
  iat: number;
  exp: number;
}

const MAX_TOKEN_LENGTH = 2048;
/** The characters of an HMAC-SHA256 in unpadded base64url. */
const MAC_LENGTH = 43;

/**
 * Tokens verified lately, by their exact text. A buyer sends the same two tokens with every request of a
 * purchase, and a token's MAC and claims never change, so each is checked once and then looked up: only
 * what verified goes in (forged tokens cannot fill it), and expiry and admission are still judged by the
 * callers on every request. Two generations of half the size each: when the newer fills up, the older is
 * dropped whole and a token found there moves to the newer, so the tokens in use stay and no eviction
 * walks the map (deleting a Map's oldest key one at a time leaves holes its iterator must skip, which
 * made a verification two to three times slower once the cache was full).
 */
const VERIFIED_GENERATION_SIZE = 10_000;

export class TokenSigner {
  readonly #secret: Buffer;
  #verified = new Map<string, Readonly<TokenClaims>>();
  #verifiedBefore = new Map<string, Readonly<TokenClaims>>();

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign<C extends TokenClaims>(claims: C): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The claims if the MAC is genuine and the purpose matches; undefined otherwise. Expiry is the caller's call. */
  verify<C extends TokenClaims>(token: string, typ: C['typ']): C | undefined {
    let claims = this.#verified.get(token);
    if (!claims) {
      claims = this.#verifiedBefore.get(token) ?? this.#check(token);
      if (!claims) return undefined;
      this.#remember(token, claims);
    }
    return claims.typ === typ ? (claims as C) : undefined;
  }

  #remember(token: string, claims: Readonly<TokenClaims>): void {
    if (this.#verified.size >= VERIFIED_GENERATION_SIZE) {
      this.#verifiedBefore = this.#verified;
      this.#verified = new Map();
    }
    this.#verified.set(token, claims);
  }

  #check(token: string): Readonly<TokenClaims> | undefined {
    const dot = token.length - MAC_LENGTH - 1;
    if (token.length > MAX_TOKEN_LENGTH || dot < 1 || token.charCodeAt(dot) !== 46 /* . */) return undefined;
    const body = token.slice(0, dot);
    // The MAC is compared as text, not as decoded bytes: base64url decoding skips junk and ignores
    // trailing bits, so several spellings would decode to the same MAC. Only ours is accepted, and since it
    // covers the body's exact text, so is only a body we wrote.
    if (!sameText(token.slice(dot + 1), this.#mac(body))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
      if (typeof claims.typ !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return undefined;
      return Object.freeze(claims);
    } catch {
      return undefined;
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

/** Equal strings of one length, compared in time that does not depend on where they differ. */
function sameText(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}
