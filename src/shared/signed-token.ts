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
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 2048) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
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
