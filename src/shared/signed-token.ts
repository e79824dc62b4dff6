import { createHmac, timingSafeEqual } from 'node:crypto';

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
/** Unpadded base64url claims, a dot, and the 43 characters of an HMAC-SHA256 in unpadded base64url. */
const CANONICAL_TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/**
 * Tokens verified lately, by their exact text. A buyer sends the same two tokens with every request of a
 * purchase, and a token's MAC and claims never change, so each is checked once and then looked up: only
 * what verified goes in (forged tokens cannot fill it), and expiry and admission are still judged by the
 * callers on every request. The oldest entry goes first once it is full.
 */
const VERIFIED_CACHE_SIZE = 20_000;

export class TokenSigner {
  readonly #secret: Buffer;
  readonly #verified = new Map<string, Readonly<TokenClaims>>();

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign<C extends TokenClaims>(claims: C): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The claims if the MAC is genuine and the purpose matches; undefined otherwise. Expiry is the caller's call. */
  verify<C extends TokenClaims>(token: string, typ: C['typ']): C | undefined {
    const known = this.#verified.get(token);
    if (known) return known.typ === typ ? (known as C) : undefined;
    const claims = this.#check<C>(token);
    if (!claims) return undefined;
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, Object.freeze(claims));
    return claims.typ === typ ? claims : undefined;
  }

  #check<C extends TokenClaims>(token: string): C | undefined {
    if (token.length > MAX_TOKEN_LENGTH || !CANONICAL_TOKEN.test(token)) return undefined;
    const [body, mac] = token.split('.') as [string, string];
    // The MAC is compared as text, not as decoded bytes: base64url decoding skips junk and ignores
    // trailing bits, so several spellings would decode to the same MAC. Only ours is accepted.
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.#mac(body)))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as C;
      if (typeof claims.typ !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}
