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

export class TokenSigner {
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign<C extends TokenClaims>(claims: C): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The claims if the MAC is genuine and the purpose matches; undefined otherwise. Expiry is the caller's call. */
  verify<C extends TokenClaims>(token: string, typ: C['typ']): C | undefined {
    if (token.length > MAX_TOKEN_LENGTH || !CANONICAL_TOKEN.test(token)) return undefined;
    const [body, mac] = token.split('.') as [string, string];
    // The MAC is compared as text, not as decoded bytes: base64url decoding skips junk and ignores
    // trailing bits, so several spellings would decode to the same MAC. Only ours is accepted.
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.#mac(body)))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as C;
      if (claims.typ !== typ || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}
